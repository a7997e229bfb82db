/**
 * Replay a recorded world instead of drawing one: a trace CSV gives every learner's true CPU speed,
 * link rate and presence per global cycle (e.g. measured on real devices, or a FedScale-style
 * availability trace). Pure: the caller reads the file and hands over its text.
 *
 * Format (data/example-trace.csv is a commented example):
 *   - lines starting with '#' and blank lines are ignored anywhere;
 *   - the first other line is the header, exactly `cycle,learner,f_hz,rate_bps,available`;
 *   - one row per (cycle, learner): cycle an integer >= 1, learner an integer >= 0 (the fleet index),
 *     f_hz and rate_bps finite decimal numbers > 0 (given even when the learner is off), available
 *     1|0 (true|false accepted); spaces around fields are ignored, quotes are not supported;
 *   - complete: cycles 1..C each list learners 0..K−1 exactly once, in any row order.
 * Cycles past C repeat cycle C (the world stays as last recorded), so a short trace can drive a
 * long run.
 */
import { InputError } from '../errors.ts';
import { SPEC_LIMITS } from './devices.ts';
import type { Dynamics, WorldState } from './dynamics.ts';

export const TRACE_HEADER = ['cycle', 'learner', 'f_hz', 'rate_bps', 'available'] as const;

/** A trace file the user gave is malformed or does not fit the run (exit code 2, like InputError). */
export class TraceError extends InputError {
  override name = 'TraceError';
  constructor(
    message: string,
    /** The file at fault, as the user would type it. */
    readonly file: string,
  ) {
    super(message);
  }
}

export interface Trace {
  readonly learners: number; // K
  readonly cycles: number; // C, the last recorded cycle
  readonly states: readonly (readonly WorldState[])[]; // states[c − 1][k]
}

// Plain decimal numbers only: Number() would also take "0x10", "Infinity" and "".
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const AVAILABLE: Record<string, boolean> = { '1': true, '0': false, true: true, false: false };

export function parseTrace(text: string, file = 'trace'): Trace {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const fail = (line: number, why: string): never => {
    throw new TraceError(`${file}:${line}: ${why}`, file);
  };
  let n = 0;
  const skip = (s: string) => s.trim() === '' || s.trimStart().startsWith('#');
  while (n < lines.length && skip(lines[n])) n++;
  if (n === lines.length) throw new TraceError(`${file}: no header (expected "${TRACE_HEADER.join(',')}")`, file);
  const header = lines[n].split(',').map((h) => h.trim());
  if (header.join(',') !== TRACE_HEADER.join(','))
    fail(n + 1, `header is "${lines[n].trim()}", expected "${TRACE_HEADER.join(',')}"`);

  const rows: { line: number; cycle: number; learner: number; state: WorldState }[] = [];
  for (n++; n < lines.length; n++) {
    if (skip(lines[n])) continue;
    const line = n + 1;
    const fields = lines[n].split(',').map((f) => f.trim());
    if (fields.length !== TRACE_HEADER.length)
      fail(line, `${fields.length} fields, expected ${TRACE_HEADER.length} (${TRACE_HEADER.join(',')})`);
    const column = (i: number, why: string): never =>
      fail(line, `column ${TRACE_HEADER[i]} ${why}, got "${fields[i]}"`);
    const number = (i: number): number => {
      const v = DECIMAL.test(fields[i]) ? Number(fields[i]) : NaN;
      return Number.isFinite(v) ? v : column(i, 'must be a decimal number');
    };
    const integer = (i: number, min: number): number => {
      const v = number(i);
      return Number.isInteger(v) && v >= min ? v : column(i, `must be an integer >= ${min}`);
    };
    // The limits a learner's profile has anywhere (SPEC_LIMITS): a trace value past them describes no device.
    const positive = (i: number, max: number): number => {
      const v = number(i);
      return v > 0 && v <= max ? v : column(i, `must be > 0 and <= ${max}`);
    };
    const cycle = integer(0, 1);
    const learner = integer(1, 0);
    const f_hz = positive(2, SPEC_LIMITS.f_hz);
    const rate_bps = positive(3, SPEC_LIMITS.rate_bps);
    const available = AVAILABLE[fields[4]] ?? column(4, 'must be 1 or 0');
    rows.push({ line, cycle, learner, state: { available, f_hz, rate_bps } });
  }
  if (rows.length === 0) throw new TraceError(`${file}: no rows after the header`, file);

  // A loop, not Math.max(...rows): spreading 10^5 rows overflows the call stack.
  let cycles = 0;
  let learners = 0;
  for (const r of rows) {
    cycles = Math.max(cycles, r.cycle);
    learners = Math.max(learners, r.learner + 1);
  }
  // Fewer rows than cycles × learners: some row is missing. Found before any table is sized by
  // the largest numbers (a cycle of 10^9 must not allocate 10^9 arrays).
  if (cycles * learners > rows.length)
    throw new TraceError(
      `${file}: no row for ${firstMissing(rows)} (every cycle 1..${cycles} needs learners 0..${learners - 1})`,
      file,
    );
  const states: WorldState[][] = Array.from({ length: cycles }, () => new Array(learners));
  const lineOf: number[][] = Array.from({ length: cycles }, () => new Array(learners));
  for (const r of rows) {
    const seen = lineOf[r.cycle - 1][r.learner];
    if (seen !== undefined) fail(r.line, `cycle ${r.cycle}, learner ${r.learner} already given on line ${seen}`);
    lineOf[r.cycle - 1][r.learner] = r.line;
    states[r.cycle - 1][r.learner] = r.state;
  }
  for (let c = 0; c < cycles; c++)
    for (let k = 0; k < learners; k++)
      if (states[c][k] === undefined)
        throw new TraceError(
          `${file}: no row for cycle ${c + 1}, learner ${k} (every cycle 1..${cycles} needs learners 0..${learners - 1})`,
          file,
        );
  return { learners, cycles, states };
}

/** The first (cycle, learner) without a row, in cycle then learner order; only called when one is missing. */
function firstMissing(rows: readonly { cycle: number; learner: number }[]): string {
  const seen = new Set(rows.map((r) => `${r.cycle},${r.learner}`));
  const learners = rows.reduce((n, r) => Math.max(n, r.learner + 1), 0);
  // A gap lies within the first rows.length + 1 (cycle, learner) pairs: they cannot all be present.
  for (let i = 0; ; i++) {
    const cycle = Math.floor(i / learners) + 1;
    const learner = i % learners;
    if (!seen.has(`${cycle},${learner}`)) return `cycle ${cycle}, learner ${learner}`;
  }
}

/** Learner k's state in cycle c; cycles past the end repeat the last recorded cycle. */
export function traceState(trace: Trace, learner: number, cycle: number): WorldState {
  if (!Number.isInteger(learner) || learner < 0 || learner >= trace.learners)
    throw new RangeError(`learner must be an integer in [0, ${trace.learners}), got ${learner}`);
  if (!Number.isInteger(cycle) || cycle < 1) throw new RangeError(`cycle must be an integer >= 1, got ${cycle}`);
  return trace.states[Math.min(cycle, trace.cycles) - 1][learner];
}

/** The run's fleet must be exactly the trace's learners (a silent subset would hide a wrong file). */
export function assertTraceFits(trace: Trace, K: number, file = 'trace'): void {
  if (trace.learners !== K)
    throw new TraceError(
      `${file}: the trace has ${trace.learners} learners (0..${trace.learners - 1}) but the run has K = ${K}`,
      file,
    );
}

/** CSV text of a trace (rows by cycle, then learner); numbers print in their shortest exact form. */
export function formatTrace(trace: Trace): string {
  const out = [TRACE_HEADER.join(',')];
  trace.states.forEach((row, c) =>
    row.forEach((s, k) => out.push(`${c + 1},${k},${s.f_hz},${s.rate_bps},${s.available ? 1 : 0}`)),
  );
  return out.join('\n') + '\n';
}

/** Record cycles 1..C of a dynamics world as a trace (to replay it, or to write an example). */
export function traceFromDynamics(dynamics: Dynamics, learners: number, cycles: number): Trace {
  const states = Array.from({ length: cycles }, (_, c) =>
    Array.from({ length: learners }, (_, k): WorldState => {
      const { available, f_hz, rate_bps } = dynamics.state(k, c + 1);
      return { available, f_hz, rate_bps };
    }),
  );
  return { learners, cycles, states };
}
