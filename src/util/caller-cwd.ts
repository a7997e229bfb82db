/**
 * The directory the user ran the command from: npm runs scripts in the package root and says where
 * it was called in INIT_CWD. Relative paths the user gives resolve against it, and a user's scheme
 * process (--scheme-cmd) starts in it.
 */
export function callerCwd(): string {
  return process.env.INIT_CWD || process.cwd();
}
