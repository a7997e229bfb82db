/**
 * Will K learner processes fit in memory? Out of memory, the kernel kills the orchestrator
 * without a word, so the run estimates its peak before spawning anything and refuses (or warns)
 * with the numbers.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Peak resident memory, MB, rounded up from measured peaks (docs/experiments.md, Memory, has them): a
 * learner host holds an engine session, the batches waiting for their turn, the weights in and out
 * and the frames that carry them; the orchestrator holds full MNIST, one engine for evaluation and
 * its frames; each learner adds its session's frames and buffers on both sides. The estimate errs on
 * the safe side: running out of memory loses the run.
 */
export const PEAK_RSS_MB = { learner_process: 250, orchestrator: 400, per_learner: 5 } as const;

/** Above this share of the available memory the run is tight: warn. */
export const TIGHT_FRACTION = 0.8;

export interface AvailableMemory {
  mb: number;
  /** where the figure came from, for the message */
  source: string;
}

const readNumber = (path: string): number | null => {
  try {
    const text = readFileSync(path, 'utf8').trim();
    const v = Number(text);
    return text !== '' && text !== 'max' && Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
};

/** Memory this process may still use: free memory (MemAvailable), or what is left under a cgroup limit when that is less. */
export function availableMemory(cgroupDir = '/sys/fs/cgroup'): AvailableMemory {
  const free = { mb: os.freemem() / 2 ** 20, source: 'available memory of this machine' };
  // cgroup v2 (memory.max), else v1 (memory/memory.limit_in_bytes; "no limit" is a huge number there)
  const v2 = readNumber(`${cgroupDir}/memory.max`);
  const limit = v2 ?? readNumber(`${cgroupDir}/memory/memory.limit_in_bytes`);
  if (limit === null || limit >= 2 ** 60) return free;
  const used =
    (v2 !== null
      ? readNumber(`${cgroupDir}/memory.current`)
      : readNumber(`${cgroupDir}/memory/memory.usage_in_bytes`)) ?? 0;
  const left = {
    mb: Math.max(0, limit - used) / 2 ** 20,
    source: `cgroup memory limit ${Math.round(limit / 2 ** 20)} MB, ${Math.round(used / 2 ** 20)} MB in use`,
  };
  return left.mb < free.mb ? left : free;
}

export interface MemoryVerdict {
  verdict: 'ok' | 'tight' | 'too-much';
  need_mb: number;
  /** the most learner processes that fit (0 when not even the orchestrator does) */
  max_K: number;
}

/** Estimated peak of K learners in `hosts` processes plus the orchestrator, MB. */
export function needMb(K: number, hosts: number): number {
  return Math.min(hosts, K) * PEAK_RSS_MB.learner_process + K * PEAK_RSS_MB.per_learner + PEAK_RSS_MB.orchestrator;
}

/** The run's estimated peak (K learners in `hosts` processes + the orchestrator) against what is available. */
export function memoryVerdict(K: number, hosts: number, available_mb: number): MemoryVerdict {
  const need = (k: number) => needMb(k, hosts);
  const need_mb = need(K);
  let max_K = 0; // need() grows with k: the largest k that fits, by bisection
  for (let lo = 0, hi = 1 << 22; lo <= hi; ) {
    const mid = (lo + hi) >> 1;
    if (need(mid) <= available_mb) (max_K = mid), (lo = mid + 1);
    else hi = mid - 1;
  }
  if (need(1) > available_mb) max_K = 0;
  const verdict = need_mb > available_mb ? 'too-much' : need_mb > TIGHT_FRACTION * available_mb ? 'tight' : 'ok';
  return { verdict, need_mb, max_K };
}

/** The refusal, with the numbers and what to do. */
export function memoryRefusal(K: number, hosts: number, v: MemoryVerdict, available: AvailableMemory): string {
  const processes = Math.min(hosts, K);
  const estimate =
    `about ${v.need_mb} MB (${processes} learner process${processes === 1 ? '' : 'es'} × ${PEAK_RSS_MB.learner_process} MB + ` +
    `${K} learners × ${PEAK_RSS_MB.per_learner} MB + ${PEAK_RSS_MB.orchestrator} MB for the orchestrator)`;
  const have = `${Math.round(available.mb)} MB are available (${available.source})`;
  // Fewer host processes fit the same K in less memory: suggest the most that fit, if any do.
  let hostsThatFit = 0;
  for (let h = Math.min(hosts, K) - 1; h >= 1 && hostsThatFit === 0; h--)
    if (needMb(K, h) <= available.mb) hostsThatFit = h;
  const fix = hostsThatFit
    ? `use --hosts ${hostsThatFit}, or free memory`
    : v.max_K >= 1
      ? `use --K ${v.max_K} or fewer, or free memory`
      : 'free memory first';
  return `not enough memory for --K ${K}: the run needs ${estimate}, ${have}; ${fix} (--memory-mb overrides the available figure)`;
}
