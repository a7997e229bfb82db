/**
 * Learner child processes. Each child runs the learner CLI (see learner-entry.ts), authenticates with
 * the run's token (passed in the environment, not on the command line where `ps` shows it), and
 * exits when its stdin closes — so a learner never outlives the orchestrator, even one killed
 * with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface SpawnedLearnerSpec {
  id: number;
  f_hz: number;
  rate_bps: number;
  distance_m?: number;
}

export class LearnerProcesses {
  private readonly children = new Map<number, ChildProcess>();
  private readonly exits = new Map<number, Promise<void>>();

  /** `entry`: node arguments that start the learner CLI (see learner-entry.ts). */
  constructor(
    private readonly entry: string[],
    private readonly url: string,
    private readonly token: string,
    private readonly logDir: string,
    private readonly log: (line: string) => void,
    /** more learner CLI flags, the same for every learner (e.g. the engine to prepare) */
    private readonly learnerFlags: string[] = [],
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  spawn(spec: SpawnedLearnerSpec): ChildProcess {
    const logFd = openSync(join(this.logDir, `learner-${spec.id}.log`), 'a');
    const args = [
      ...this.entry,
      '--connect',
      this.url,
      '--learner-id',
      String(spec.id),
      '--f-hz',
      String(spec.f_hz),
      '--rate-bps',
      String(spec.rate_bps),
      '--spawned',
      ...this.learnerFlags,
    ];
    const child = spawn(process.execPath, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, MEL_TOKEN: this.token },
      stdio: ['pipe', logFd, logFd],
    });
    closeSync(logFd);
    this.children.set(spec.id, child);
    this.exits.set(
      spec.id,
      new Promise((resolve) =>
        child.once('exit', (code, signal) => {
          if (this.children.get(spec.id) === child) this.children.delete(spec.id);
          if (code !== 0 && code !== null) this.log(`learner process ${spec.id} exited with code ${code} (see ${this.logDir}/learner-${spec.id}.log)`);
          else if (signal && signal !== 'SIGTERM') this.log(`learner process ${spec.id} killed by ${signal}`);
          resolve();
        }),
      ),
    );
    child.stdin?.on('error', () => {}); // EPIPE when the child is already gone
    return child;
  }

  isRunning(id: number): boolean {
    return this.children.has(id);
  }

  pid(id: number): number | undefined {
    return this.children.get(id)?.pid;
  }

  allPids(): number[] {
    return [...this.children.values()].map((c) => c.pid!).filter((p) => p !== undefined);
  }

  /** Fault injection: kill one learner abruptly. Resolves once it has exited. */
  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.children.get(id);
    if (!child) return;
    child.kill(signal);
    await this.exits.get(id);
  }

  /** Ends every learner: close stdin (they exit by themselves), then SIGTERM, then SIGKILL. */
  async stopAll(graceMs = 2000): Promise<void> {
    const pending = [...this.children.entries()];
    for (const [, child] of pending) child.stdin?.end();
    const all = Promise.all(pending.map(([id]) => this.exits.get(id)));
    const timeout = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await Promise.race([all, timeout(graceMs)]);
    for (const [, child] of pending)
      if (child.exitCode === null && child.signalCode === null) {
        // A stopped (SIGSTOP) learner acts on neither stdin EOF nor SIGTERM until it continues.
        child.kill('SIGCONT');
        child.kill('SIGTERM');
      }
    await Promise.race([all, timeout(graceMs)]);
    for (const [, child] of pending) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await all;
  }
}
