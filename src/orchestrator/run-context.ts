/** What the steps of a run share: its options, its result, its context and its data, and the Ctrl-C that stops it. */
import type { SchemeRegistry } from '../allocation/scheme.ts';
import type { FeasibleAllocation, SchemeName } from '../allocation/types.ts';
import type { ImageSet } from '../data/mnist.ts';
import type { LearnerProfile } from '../model/devices.ts';
import type { Engine } from '../nn/mlp.ts';
import type { TlsFiles } from './transport/listener.ts';
import type { RunEvent } from './events.ts';
import type { RunSummaryFile } from '../run-folder/schema.ts';

export interface RunOptions {
  out: string;
  token?: string;
  resume?: boolean;
  /** prose still logged as text: the hub's connection news, learner processes that exit (stderr by default) */
  log?: (line: string) => void;
  /** everything else the run reports, typed (events.ts): the CLI formats it, tests assert on it */
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal; // abort = stop after the learners are stopped (Ctrl-C); completed cycles stay
  /** memory the run may use, MB; default: what this machine (or its cgroup) has available */
  memoryMb?: number;
  /** serve wss:// with this certificate and key (spawned hosts trust exactly this certificate) */
  tls?: TlsFiles;
}

export interface RunResult {
  out: string;
  summary: RunSummaryFile;
  interrupted: boolean;
  /** cycle rows in the folder (all sessions): 0 means there is nothing to resume */
  completedCycles: number;
}

export class Interrupted extends Error {}

/** What every step of a run shares: its log and events, its start, the fleet and the schemes. */
export interface RunContext {
  log: (line: string) => void;
  emit: (e: RunEvent) => void;
  runStart: number;
  fleet: LearnerProfile[];
  /** every scheme's allocation of `fleet` before anything is measured (the check before anything started) */
  allocations: Map<SchemeName, FeasibleAllocation>;
  schemes: SchemeRegistry;
}

export type RunData = { engine: Engine; train: ImageSet; test: ImageSet };
