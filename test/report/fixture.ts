/**
 * A small synthetic run folder in the format `npm run experiment` writes: 2 schemes, 3 cycles,
 * 3 learners; in the ETA scheme learner 2 is late and learner 3 is missing in cycle 3.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseLearners } from '../../src/run-folder/read.ts';
import { WALL_PHASES_HEADER } from '../../src/run-folder/schema.ts';

export const FIXTURE_T_S = 12;

export function fixtureFiles(): Record<string, string> {
  const config = {
    K: 3,
    T: FIXTURE_T_S,
    schemes: ['optimal', 'eta'],
    seed: 1,
    cycles: 3,
    scenario: 'parallel',
    alpha: null,
    train_samples: 600,
    test_samples: 2000, // not MNIST's 10,000: the caption must say 2,000
    clock: 'virtual',
    time_scale: 1,
    late: 'drop',
    speed_jitter: 0,
    engine: 'auto',
    backend: 'wasm',
    preset: { W_hz: 5e6, d: 600 },
    faults: { kill: [], drop_prob: 0.1 },
    fleet: [
      { id: 1, f_hz: 2.4e9, distance_m: 12.3456789, rate_bps: 6.1e7 },
      { id: 2, f_hz: 0.7e9, distance_m: 30.5, rate_bps: 3.2e7 },
      { id: 3, f_hz: 2.4e9, distance_m: 48.25, rate_bps: 1.5e7 },
    ],
    engine_used: 'tfjs-wasm',
    git_commit: '0123456789abcdef0123456789abcdef01234567',
  };
  const cycles = [
    'scheme,cycle,tau,test_accuracy,test_loss,emulated_time_s,max_learner_time_s,late_learners,wall_time_s',
    'optimal,1,6,0.9512,0.171,12,11.8,0,2.1',
    'optimal,2,6,0.9688,0.105,24,11.7,0,2.0',
    'optimal,3,6,0.9741,0.088,36,11.9,0,2.2',
    'eta,1,2,0.9301,0.242,12,11.2,0,1.1',
    'eta,2,2,0.9550,0.160,24,11.5,0,1.0',
    'eta,3,2,0.9622,0.131,36.9,12.9,1,1.2',
  ];
  const learners = ['scheme,cycle,learner,f_hz,rate_bps,batch,t_send_s,t_compute_s,t_return_s,t_total_s,late'];
  const fleet = [
    { f: 2.4e9, r: 6.1e7 },
    { f: 0.7e9, r: 3.2e7 },
    { f: 2.4e9, r: 1.5e7 },
  ];
  for (const scheme of ['optimal', 'eta']) {
    for (let c = 1; c <= 3; c++) {
      fleet.forEach((node, i) => {
        const k = i + 1;
        const batch = scheme === 'optimal' ? [260, 90, 250][i] : 200;
        const send = 0.8 + 0.4 * i;
        const compute = scheme === 'optimal' ? 9.6 - 0.3 * i : [4.2, 10.5, 4.4][i];
        const ret = 0.7 + 0.3 * i;
        const lateNow = scheme === 'eta' && c === 3 && k === 2;
        const missing = scheme === 'eta' && c === 3 && k === 3;
        const computeS = lateNow ? 11.4 : compute;
        const row = missing
          ? [scheme, c, k, node.f, node.r, batch, '', '', '', '', 'missing']
          : [
              scheme,
              c,
              k,
              node.f,
              node.r,
              batch,
              send,
              computeS,
              ret,
              +(send + computeS + ret).toFixed(3),
              lateNow ? 1 : 0,
            ];
        learners.push(row.join(','));
      });
    }
  }
  const summary = {
    schemes: {
      optimal: {
        final_accuracy: 0.9741,
        best_accuracy: 0.9741,
        cycles_to_96_67: 2,
        cycles_to_97: 3,
        mean_tau: 6,
        late_learner_cycles: 0,
        missing_learner_cycles: 0,
      },
      eta: {
        final_accuracy: 0.9622,
        best_accuracy: 0.9622,
        cycles_to_96_67: null,
        cycles_to_97: null,
        mean_tau: 2,
        late_learner_cycles: 1,
        missing_learner_cycles: 1,
      },
    },
    engine: 'tfjs-wasm',
    wall_s: 12.345678,
    overruns: 0,
  };
  return {
    'config.json': JSON.stringify(config, null, 2),
    'cycles.csv': cycles.join('\n') + '\n',
    'learners.csv': learners.join('\n') + '\n',
    'summary.json': JSON.stringify(summary, null, 2),
  };
}

const made: string[] = [];

/** A fresh temp dir, removed by removeTempDirs(). */
export async function makeTempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mel-report-'));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Write the fixture into a fresh temp dir; `override` replaces (string) or removes (null) files. */
export async function writeFixtureRun(override: Record<string, string | null> = {}): Promise<string> {
  const dir = await makeTempDir();
  const files = { ...fixtureFiles(), ...override };
  for (const [name, text] of Object.entries(files)) if (text !== null) await writeFile(path.join(dir, name), text);
  return dir;
}

export function fig1Files(): Record<string, string> {
  const header = 'scheme,K,T,tau_mean,tau_min,tau_max,feasible_fraction,seeds';
  const vsK = [header];
  for (const T of [30, 60])
    for (let K = 5; K <= 30; K += 5)
      for (const [scheme, gain] of [
        ['optimal', 1],
        ['analytical', 1],
        ['eta', 0.35],
      ] as const) {
        const mean = Math.max(0, Math.floor((gain * T * K) / 40));
        vsK.push(
          [scheme, K, T, mean, Math.max(0, mean - 1), mean + 1, K === 5 && scheme === 'eta' ? 0.6 : 1, 5].join(','),
        );
      }
  vsK.push(['eta', 3, 30, '', '', '', 0, 5].join(',')); // an all-infeasible point: no τ to plot
  const vsT = [header];
  for (const K of [10, 20])
    for (let T = 10; T <= 60; T += 10)
      for (const [scheme, gain] of [
        ['optimal', 1],
        ['analytical', 1],
        ['eta', 0.35],
      ] as const) {
        const mean = Math.floor((gain * T * K) / 40);
        vsT.push([scheme, K, T, mean, mean, mean, 1, 5].join(','));
      }
  return { 'tau_vs_K.csv': vsK.join('\n') + '\n', 'tau_vs_T.csv': vsT.join('\n') + '\n' };
}

/**
 * wall_phases.csv for the fixture run as if it ran with `--clock real --time-scale 0.5`: every
 * phase on schedule, except that sends take 1.5× their scaled time and ETA learner 2 overran
 * its compute budget by 0.3 s in cycle 3 (the missing learner has no row).
 */
export const FIXTURE_TIME_SCALE = 0.5;

export function fixtureWallPhases(): string {
  const lines = [WALL_PHASES_HEADER.join(',')];
  for (const r of parseLearners(fixtureFiles()['learners.csv'], 'learners.csv')) {
    if (r.status === 'missing') continue;
    const [scheme, cycle, learner, send, compute, ret] = [
      r.scheme,
      String(r.cycle),
      String(r.learner),
      r.tSendS,
      r.tComputeS,
      r.tReturnS,
    ];
    const s = FIXTURE_TIME_SCALE;
    const overrun = scheme === 'eta' && cycle === '3' && learner === '2' ? 0.3 : 0;
    const train = Number(compute) * s * 0.4 + (overrun ? Number(compute) * s * 0.6 + overrun : 0);
    lines.push(
      [
        scheme,
        cycle,
        learner,
        Number(send) * s * 1.5,
        Number(compute) * s + overrun,
        Number(ret) * s,
        train,
        overrun,
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}
