/**
 * Learner host processes. Each child runs the learner CLI (see learner-entry.ts) for its share of
 * the learner ids — one process per learner when there are as many hosts as learners — and its
 * learners take their profiles from the run's fleet (their hellos name none). Children
 * authenticate with the run's token (passed in the environment, not on the command line where
 * `ps` shows it), and exit when their stdin closes — so a host never outlives the orchestrator,
 * even one killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIdRanges } from '../../util/id-ranges.ts';
import { PROJECT_ROOT } from '../../util/project-root.ts';

/**
 * A host receives and sends a ~1 MB frame per learner and cycle. By default glibc gives blocks that
 * large back to the system when freed, so every frame faults in fresh pages (seconds per cycle at
 * K = 1000). Kept in the process, they are reused. The npm
 * scripts set the same for the orchestrator (package.json "config"), whose hosts inherit it; this
 * is for hosts of an orchestrator started otherwise (the tests).
 */
export const HOST_MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824';

/**
 * Every frame read is a fresh buffer. With a small JavaScript heap V8's old-generation limit sits so
 * close to the heap that it keeps marking: at K = 1000, dozens of full mark-compacts a cycle. A larger initial limit makes them
 * rare. The npm scripts pass the same to the orchestrator (package.json "config"); its hosts take
 * its value, or this one.
 */
export const DEFAULT_HEAP_FLAG = '--initial-old-space-size=256';

/** The heap flag for a Node process we start: this process's own, else the default. */
export function heapFlag(): string {
  return process.execArgv.find((a) => a.startsWith('--initial-old-space-size=')) ?? DEFAULT_HEAP_FLAG;
}

/**
 * K learners dealt round-robin to `hosts` hosts: host h runs h, h + hosts, h + 2·hosts, … Fleets are
 * often ordered (the seeded one puts its fast devices first, and they get the big batches), and a
 * host trains one learner at a time: dealt like cards, every host gets a similar share of the work.
 */
export function hostBlocks(K: number, hosts: number): number[][] {
  const n = Math.max(1, Math.min(hosts, K));
  return Array.from({ length: n }, (_, h) => Array.from({ length: Math.ceil((K - h) / n) }, (_, i) => h + i * n));
}

export interface LearnerHostsOptions {
  /** node arguments that start the learner CLI (see learner-entry.ts) */
  entry: string[];
  /** the hub the learners connect to */
  url: string;
  token: string;
  /** where each host's log file goes */
  logDir: string;
  log: (line: string) => void;
  /** the learner ids of each host */
  blocks: number[][];
  /** more learner CLI flags, the same for every host (e.g. the engine to prepare) */
  learnerFlags?: string[];
  /** more environment, the same for every host (e.g. MEL_TLS_PIN: the run's certificate, which they trust) */
  learnerEnv?: Record<string, string>;
}

export class LearnerHosts {
  private readonly children = new Map<number, ChildProcess>();
  private readonly exits = new Map<number, Promise<void>>();
  private readonly hostOfLearner: number[] = [];

  readonly blocks: number[][];
  private readonly opts: Required<LearnerHostsOptions>;

  constructor(opts: LearnerHostsOptions) {
    this.opts = { ...opts, learnerFlags: opts.learnerFlags ?? [], learnerEnv: opts.learnerEnv ?? {} };
    this.blocks = opts.blocks;
    mkdirSync(opts.logDir, { recursive: true });
    this.blocks.forEach((ids, h) => ids.forEach((id) => (this.hostOfLearner[id] = h)));
  }

  get count(): number {
    return this.blocks.length;
  }

  hostOf(learner: number): number {
    return this.hostOfLearner[learner];
  }

  /** The host's log file: a learner's own when it has a process to itself. */
  logFile(host: number): string {
    const ids = this.blocks[host];
    return join(
      this.opts.logDir,
      ids.length === 1 ? `learner-${ids[0]}.log` : `host-${host}-of-${this.blocks.length}.log`,
    );
  }

  /** Starts host `host` (its learners join on their own). */
  spawn(host: number): ChildProcess {
    const logFd = openSync(this.logFile(host), 'a');
    const args = [
      heapFlag(),
      ...this.opts.entry,
      '--connect',
      this.opts.url,
      '--learner-ids',
      formatIdRanges(this.blocks[host]),
      '--spawned',
      ...this.opts.learnerFlags,
    ];
    const child = spawn(process.execPath, args, {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        ...this.opts.learnerEnv,
        MEL_TOKEN: this.opts.token,
        GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? HOST_MALLOC_TUNABLES,
      },
      stdio: ['pipe', logFd, logFd],
    });
    closeSync(logFd);
    this.children.set(host, child);
    const what =
      this.blocks[host].length === 1
        ? `learner process ${this.blocks[host][0]}`
        : `learner host ${host} (learners ${formatIdRanges(this.blocks[host])})`;
    this.exits.set(
      host,
      new Promise((resolve) =>
        child.once('exit', (code, signal) => {
          if (this.children.get(host) === child) this.children.delete(host);
          if (code !== 0 && code !== null)
            this.opts.log(`${what} exited with code ${code} (see ${this.logFile(host)})`);
          else if (signal && signal !== 'SIGTERM') this.opts.log(`${what} killed by ${signal}`);
          resolve();
        }),
      ),
    );
    child.stdin?.on('error', () => {}); // EPIPE when the child is already gone
    return child;
  }

  isRunning(host: number): boolean {
    return this.children.has(host);
  }

  pid(host: number): number | undefined {
    return this.children.get(host)?.pid;
  }

  /**
   * Whether the host is stopped (SIGSTOP, SIGTSTP, a debugger): it runs, yet none of its learners can
   * answer or rejoin until it continues. Read from /proc (Linux); elsewhere it is never known (false).
   */
  isStopped(host: number): boolean {
    const pid = this.pid(host);
    return pid !== undefined && processIsStopped(pid);
  }

  allPids(): number[] {
    return [...this.children.values()].map((c) => c.pid!).filter((p) => p !== undefined);
  }

  /** Kills one host abruptly (fault injection, a hung host). Resolves once it has exited. */
  async kill(host: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.children.get(host);
    if (!child) return;
    child.kill(signal);
    await this.exits.get(host);
  }

  /** Ends every host: close stdin (they exit by themselves), then SIGTERM, then SIGKILL. */
  async stopAll(graceMs = 2000): Promise<void> {
    const pending = [...this.children.entries()];
    for (const [, child] of pending) child.stdin?.end();
    const all = Promise.all(pending.map(([host]) => this.exits.get(host)));
    const timeout = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await Promise.race([all, timeout(graceMs)]);
    for (const [, child] of pending)
      if (child.exitCode === null && child.signalCode === null) {
        // A stopped (SIGSTOP) host acts on neither stdin EOF nor SIGTERM until it continues.
        child.kill('SIGCONT');
        child.kill('SIGTERM');
      }
    await Promise.race([all, timeout(graceMs)]);
    for (const [, child] of pending) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await all;
  }
}

/** /proc/PID/stat's state (the field after the parenthesised name) is T or t while the process is stopped. */
export function processIsStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[Tt]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]);
  } catch {
    return false; // gone, or no /proc
  }
}
