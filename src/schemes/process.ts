/**
 * A user's scheme as a process in any language (--scheme-cmd NAME=COMMAND): started once per run and
 * kept for all cycles; one JSON problem per line on its stdin, one JSON answer per line on its
 * stdout, its stderr to the run's log. Whatever it does wrong (crash, silence, junk) ends the run
 * with one line (exit 2); the process never outlives the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { allocationFromAnswer, problemMessage } from '../allocation/answer.ts';
import type { Scheme, SchemeKind, SchemeProblem } from '../allocation/scheme.ts';
import type { Allocation } from '../allocation/types.ts';
import { InputError } from '../errors.ts';
import { callerCwd } from '../util/caller-cwd.ts';

/** Lines of the scheme's stderr kept for the message when it crashes. */
const STDERR_TAIL_LINES = 8;
/** The longest answer line taken (an answer for K = 10^5 learners is ~1.5 MB): beyond it the scheme is stopped. */
const MAX_LINE_CHARS = 64 * 1024 * 1024;
/** After stdin closes, the scheme has this long to exit before it is killed. */
const EXIT_GRACE_MS = 2000;

export interface ProcessSchemeOptions {
  name: string;
  command: string;
  /** seconds the scheme may take for one answer */
  timeout_s: number;
  /** the run's log: every line the scheme writes on stderr */
  log: (line: string) => void;
  /** where the command runs; default: where the user ran the emulator (INIT_CWD under npm) */
  cwd?: string;
}

export class ProcessScheme implements Scheme {
  readonly name: string;
  // A process may answer with one τ or a τ_k per learner: the answer says which.
  readonly kind: SchemeKind = 'per-learner-tau';
  private readonly child: ChildProcess;
  private readonly stderrTail: string[] = [];
  private stdoutRest = '';
  private stderrRest = '';
  private pending: { resolve: (line: string) => void; reject: (e: Error) => void; cycle: number } | null = null;
  /** what went wrong outside a request (an exit, an extra line): the next request fails with it */
  private broken: Error | null = null;
  private readonly exited: Promise<void>;
  /** a line on stdout that answered no request (or one too long): the scheme broke its protocol */
  private protocolError: Error | null = null;
  /** the cycle of the last answer taken, named when an extra line follows it */
  private answeredCycle = 0;
  /** the line being received began before the pending request was sent, so it cannot be its answer */
  private lineBeganBeforeRequest = false;

  constructor(private readonly opts: ProcessSchemeOptions) {
    this.name = opts.name;
    // Its own process group, so that closing it also ends what a shell started for it.
    this.child = spawn('/bin/sh', ['-c', opts.command], {
      cwd: opts.cwd ?? callerCwd(),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => this.onStdout(text));
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => this.onStderr(text));
    this.child.stdin!.on('error', () => {}); // a scheme that exits early: its exit says what happened
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.fail(new InputError(`scheme ${this.name}: cannot start "${opts.command}": ${e.message}`));
        resolve();
      });
      this.child.on('close', (code, signal) => {
        this.flushStderr();
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        this.fail(new InputError(`scheme ${this.name} (${opts.command}) ${how}${this.tail()}`));
        resolve();
      });
    });
  }

  async allocate(problem: SchemeProblem): Promise<Allocation> {
    const line = await this.request(problem.cycle ?? 0, JSON.stringify(problemMessage(this.name, problem)));
    let answer: unknown;
    try {
      answer = JSON.parse(line);
    } catch {
      throw new InputError(
        `scheme ${this.name}, cycle ${problem.cycle ?? 0}: its answer is not JSON: ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    return allocationFromAnswer(this.name, this.kind, problem, answer);
  }

  /** Throws the extra (or overlong) line the scheme wrote on stdout, if it wrote one. */
  check(): void {
    if (this.protocolError) throw this.protocolError;
  }

  /** Close stdin (a well-behaved scheme exits at end of input); kill its process group if it does not. */
  async close(): Promise<void> {
    this.broken ??= new InputError(`scheme ${this.name} is closed`);
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      this.child.stdin!.end();
      const timer = setTimeout(() => this.killGroup(), EXIT_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
  }

  private request(cycle: number, message: string): Promise<string> {
    if (this.broken) return Promise.reject(this.broken);
    this.lineBeganBeforeRequest = this.stdoutRest.length > 0;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        this.broken = new InputError(
          `scheme ${this.name} did not answer cycle ${cycle} within ${this.opts.timeout_s} s (--scheme-timeout-s)${this.tail()}`,
        );
        this.killGroup();
        reject(this.broken);
      }, this.opts.timeout_s * 1000);
      const settle =
        <T>(f: (x: T) => void) =>
        (x: T) => {
          clearTimeout(timer);
          this.pending = null;
          f(x);
        };
      this.pending = { resolve: settle(resolve), reject: settle(reject), cycle };
      this.child.stdin!.write(message + '\n');
    });
  }

  private onStdout(text: string): void {
    const lines = (this.stdoutRest + text).split('\n');
    this.stdoutRest = lines.pop()!;
    if (this.stdoutRest.length > MAX_LINE_CHARS) {
      this.stdoutRest = '';
      this.protocolError ??= new InputError(
        `scheme ${this.name} wrote more than ${MAX_LINE_CHARS} characters without a newline (one answer line per problem)`,
      );
      this.fail(this.protocolError);
      this.killGroup();
      return;
    }
    for (const line of lines) {
      const early = this.lineBeganBeforeRequest;
      this.lineBeganBeforeRequest = false;
      if (this.pending && !early) {
        this.answeredCycle = this.pending.cycle;
        this.pending.resolve(line);
      } else {
        this.protocolError ??= this.extraLine(line);
        this.fail(this.protocolError);
      }
    }
  }

  private extraLine(line: string): InputError {
    return new InputError(
      `scheme ${this.name} wrote an extra line on stdout after its answer to cycle ${this.answeredCycle}: ${JSON.stringify(line.slice(0, 80))} (one answer line per problem; print anything else to stderr)`,
    );
  }

  private onStderr(text: string): void {
    const lines = (this.stderrRest + text).split('\n');
    this.stderrRest = lines.pop()!;
    for (const line of lines) this.noteStderr(line);
  }

  private flushStderr(): void {
    if (this.stderrRest) this.noteStderr(this.stderrRest);
    this.stderrRest = '';
  }

  private noteStderr(line: string): void {
    this.opts.log(`[scheme ${this.name}] ${line}`);
    this.stderrTail.push(line);
    if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
  }

  private tail(): string {
    return this.stderrTail.length ? `; its stderr ends: ${this.stderrTail.join(' | ').slice(-600)}` : '';
  }

  private fail(e: Error): void {
    this.broken ??= e;
    this.pending?.reject(this.broken);
  }

  private killGroup(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
