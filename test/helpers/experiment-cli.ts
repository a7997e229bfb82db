/** `npm run experiment` as a real process (tsx, like npm does), with its stderr awaitable line by line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

/** A run of a few seconds: K = 2, 200 training samples, τ of a few tens; `over` replaces or adds flags. */
export function tiny(over: Record<string, string> = {}): string[] {
  const flags: Record<string, string> = {
    K: '2',
    T: '12',
    cycles: '2',
    schemes: 'optimal',
    seed: '3',
    'train-samples': '200',
    'test-samples': '100',
    'flops-per-sample': String(5 * 1_123_736),
    backend: 'wasm',
    ...over,
  };
  return [...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]), '--no-report'];
}

export interface ExperimentProcess {
  child: ChildProcess;
  pid: number;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }>;
  /** Resolves once stderr matches `pattern` (rejects if the process exits first). */
  when: (pattern: RegExp) => Promise<RegExpMatchArray>;
}

export function startExperiment(args: string[]): ExperimentProcess {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/experiment.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void; reject: (e: Error) => void }[] = [];
  child.stderr!.on('data', (d) => {
    err += d;
    for (const w of [...waiters]) {
      const m = err.match(w.pattern);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }>((r) =>
    child.on('close', (code, signal) => {
      for (const w of waiters.splice(0))
        w.reject(new Error(`exited (${code ?? signal}) before stderr matched ${w.pattern}:\n${err}`));
      r({ code, signal, stderr: err, ms: Date.now() - started });
    }),
  );
  const when = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const m = err.match(pattern);
      if (m) return resolve(m);
      if (child.exitCode !== null || child.signalCode !== null)
        return reject(new Error(`already exited; stderr:\n${err}`));
      waiters.push({ pattern, resolve, reject });
    });
  return { child, pid: child.pid!, stderr: () => err, exit, when };
}

/** The "error: ..." lines a failed command printed (a usage error prints exactly one). */
export const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error: '));
