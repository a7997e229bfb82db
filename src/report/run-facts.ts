/**
 * What a run was, in words: the header facts, the fleet table and readable key/value tables
 * of config.json and summary.json. Pure data out (label → text); html.ts lays it out. Every
 * field is optional: run folders from older versions lack some, and those are simply left out.
 */
import { formatHz, ghz, groupThousands, mbps, percent, roundNumber } from './format.ts';
import type { LearnerRow, RunSummaryRead as RunSummary } from '../run-folder/schema.ts';
import { orderSchemes, schemeLabel } from './schemes.ts';

export interface Fact {
  label: string;
  value: string;
}

type Json = Record<string, unknown>;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;

/** The engine that really trained: config.json `engine_used` (older runs: `backend_used`), else summary.json `engine` (older: `backend`). */
export function engineUsed(config: Json, summary: Json): string | undefined {
  return str(config.engine_used) ?? str(config.backend_used) ?? str(summary.engine) ?? str(summary.backend);
}

/** The test-set size the accuracy is measured on (config.json `test_samples`). */
export function testSamples(config: Json): number | undefined {
  return num(config.test_samples);
}

/** A git commit as people quote it: 12 hex digits, any suffix such as "-dirty" kept. */
function shortCommit(commit: string): string {
  return commit.replace(/^([0-9a-f]{12})[0-9a-f]{28}/i, '$1');
}

/** The headline facts under the report's title, in reading order; absent fields are skipped. */
export function headerFacts(config: Json, summary: Json): Fact[] {
  const K = num(config.K);
  const T = num(config.T);
  const cycles = num(config.cycles);
  const commit = str(config.git_commit);
  const facts: [label: string, value: string | undefined][] = [
    ['learners', K === undefined ? undefined : `K = ${K}`],
    ['deadline', T === undefined ? undefined : `T = ${roundNumber(T)} s`],
    ['global cycles', cycles === undefined ? undefined : `${cycles} per scheme`],
    [
      'schemes',
      Array.isArray(config.schemes) ? orderSchemes(config.schemes.map(String)).map(schemeLabel).join(', ') : undefined,
    ],
    ['scenario', scenarioText(config)],
    ['data', dataText(config)],
    ['model', modelText(config)],
    ['training', trainingText(config)],
    ['clock', clockText(config)],
    ['late learners', lateText(config)],
    ['speed jitter', jitterText(config)],
    ['world', worldText(config)],
    ['allocator knows', csiText(config)],
    ['robust', robustText(config)],
    ['per-learner τ_k', stalenessText(config)],
    ['aggregation', aggregationText(config)],
    ['energy budget', budgetText(config)],
    ['faults', faultsText(config)],
    ['engine', engineText(config, summary)],
    ['seed', num(config.seed) === undefined ? undefined : String(config.seed)],
    ['git commit', commit === undefined ? undefined : shortCommit(commit)],
  ];
  return facts.flatMap(([label, value]) => (value === undefined ? [] : [{ label, value }]));
}

function scenarioText(config: Json): string | undefined {
  const scenario = str(config.scenario);
  const alpha = num(config.alpha);
  if (scenario === 'federated')
    return alpha === undefined
      ? 'federated, IID shards'
      : `federated, non-IID shards (Dirichlet α = ${roundNumber(alpha)})`;
  if (scenario === 'parallel') return 'task-parallel (the orchestrator ships each batch)';
  return scenario;
}

/** Training and test set sizes, or undefined when neither is recorded. */
function dataText(config: Json): string | undefined {
  const d = num(config.train_samples);
  const test = testSamples(config);
  const data = [
    d === undefined ? '' : `d = ${groupThousands(d)} training samples`,
    test === undefined ? '' : `${groupThousands(test)} test images`,
  ].filter(Boolean);
  if (!data.length) return undefined;
  // Runs from before --dataset name none (they are MNIST).
  const name = DATASET_NAMES[str(config.dataset) ?? ''];
  return `${name ? `${name}: ` : ''}${data.join(', ')}`;
}

const DATASET_NAMES: Record<string, string> = { mnist: 'MNIST', cifar10: 'CIFAR-10' };

/** Mini-batch, learning rate and what one local iteration is, or undefined when none is recorded. */
function trainingText(config: Json): string | undefined {
  const training = [
    num(config.minibatch) === undefined ? '' : `mini-batch ${config.minibatch}`,
    num(config.lr) === undefined ? '' : `learning rate ${config.lr}`,
    config.local_iteration === 'epoch'
      ? 'local iteration = one epoch over d_k'
      : config.local_iteration === 'step'
        ? 'local iteration = one mini-batch step'
        : '',
  ].filter(Boolean);
  return training.length ? training.join(', ') : undefined;
}

function clockText(config: Json): string | undefined {
  const clock = str(config.clock);
  const scale = num(config.time_scale);
  if (clock === 'real')
    return `real${scale === undefined ? '' : `, time scale ${roundNumber(scale)} (an emulated second lasts ${roundNumber(scale)} s of wall time)`}`;
  if (clock === 'virtual') return 'virtual (emulated time, nothing sleeps)';
  return clock;
}

function lateText(config: Json): string | undefined {
  const late = str(config.late);
  if (late === 'drop') return 'dropped from the average (--late drop)';
  if (late === 'wait') return 'waited for; the cycle lasts longer (--late wait)';
  return late;
}

function jitterText(config: Json): string | undefined {
  const jitter = num(config.speed_jitter);
  if (jitter === undefined) return undefined;
  return jitter === 0
    ? 'none (devices exactly as profiled)'
    : `σ = ${roundNumber(jitter)} (log-normal factor on speed and rate, per learner and cycle)`;
}

/** What the allocator is told about the learners (--csi). */
function csiText(config: Json): string | undefined {
  const csi = str(config.csi);
  if (csi === undefined) return undefined;
  if (csi === 'profile') return 'the static profile (--csi profile)';
  if (csi === 'last') return "each learner's measurement from its previous cycle (--csi last; allocated every cycle)";
  return "this cycle's true values (--csi perfect, an oracle)";
}

function robustText(config: Json): string | undefined {
  if ((config.schemes as unknown[] | undefined)?.includes('robust') && num(config.epsilon) !== undefined)
    return `planned miss probability ≤ ε = ${roundNumber(num(config.epsilon)!)} per learner`;
  return undefined;
}

// Per-learner τ_k, aggregation and energy are absent in runs from before them.

function stalenessText(config: Json): string | undefined {
  const schemes = Array.isArray(config.schemes) ? config.schemes.map(String) : [];
  const staleness = config.max_staleness;
  if (
    !(schemes.includes('async') || schemes.includes('energy')) ||
    !(staleness === null || num(staleness) !== undefined)
  )
    return undefined;
  return staleness === null
    ? 'each learner fills its cycle (staleness unbounded)'
    : `each learner fills its cycle, τ_k ≤ τ* + ${staleness} (--max-staleness)`;
}

function aggregationText(config: Json): string | undefined {
  const aggregate = str(config.aggregate);
  if (aggregate === undefined) return undefined;
  return aggregate === 'fednova'
    ? 'FedNova (each update divided by its τ_k, Wang et al. 2020)'
    : 'FedAvg (weights ∝ d_k)';
}

function budgetText(config: Json): string | undefined {
  const budget = num(obj(config.energy)?.budget_j);
  return budget === undefined ? undefined : `${roundNumber(budget)} J per learner and cycle (--energy-j)`;
}

/** The injected faults, "none injected" when config.json has the faults entry but it is empty. */
function faultsText(config: Json): string | undefined {
  const faults = obj(config.faults);
  if (!faults) return undefined;
  const kills = Array.isArray(faults.kill) ? faults.kill.map(killText).filter(Boolean) : [];
  const drop = num(faults.drop_prob) ?? 0;
  const parts = [...kills, drop > 0 ? `results lost with probability ${roundNumber(drop)}` : ''].filter(Boolean);
  return parts.length ? parts.join('; ') : 'none injected';
}

/** The engine that trained, and the one requested when it differs. */
function engineText(config: Json, summary: Json): string | undefined {
  const used = engineUsed(config, summary);
  const requested = str(config.engine) ?? str(config.backend);
  if (used !== undefined)
    return requested !== undefined && requested !== used ? `${used} (requested: ${requested})` : used;
  if (requested !== undefined) return `not recorded (requested: ${requested})`;
  return undefined;
}

/** The network (--model) with the S_m and C_m the allocation used; undefined for runs from before --model. */
function modelText(config: Record<string, unknown>): string | undefined {
  const model = str(config.model);
  if (model === undefined) return undefined;
  const params = obj(config.params);
  const [size, compute] = [num(params?.model_params), num(params?.flops_per_sample)];
  return size === undefined || compute === undefined
    ? model
    : `${model}: S_m = ${groupThousands(size)} parameters, C_m = ${groupThousands(compute)} FLOP per sample`;
}

/** The changing world of config.json, or undefined for runs from before it (or a static one). */
function worldText(config: Record<string, unknown>): string | undefined {
  const trace = str(config.trace_file);
  if (trace !== undefined) return `replayed from the trace ${trace}`;
  const parts: string[] = [];
  if (config.fading === 'rayleigh') parts.push('Rayleigh block fading');
  const shadow = num(config.shadowing_db);
  if (shadow) parts.push(`log-normal shadowing σ = ${roundNumber(shadow)} dB`);
  const speed = num(config.speed_mps);
  if (speed) parts.push(`random waypoint at ${roundNumber(speed)} m/s`);
  const p = num(config.availability);
  if (p !== undefined && p < 1)
    parts.push(
      `on with probability ${roundNumber(p)} (mean on-run ${roundNumber(num(config.mean_on_cycles) ?? NaN)} cycles)`,
    );
  if (parts.length === 0) return config.fading === undefined ? undefined : 'static (only --speed-jitter varies)';
  return parts.join(', ') + ' — drawn per learner and cycle, seeded, the same for every scheme';
}

function killText(k: unknown): string {
  const o = obj(k);
  return o && num(o.learner) !== undefined && num(o.cycle) !== undefined
    ? `learner ${o.learner} killed in cycle ${o.cycle} (--fail ${o.learner}@${o.cycle})`
    : '';
}

export interface FleetRow {
  id: number;
  fGhz: string;
  distanceM: string;
  rateMbps: string;
  /** d_k per scheme, in the order of `schemes`; "—" when the scheme has no row for this learner. */
  batch: string[];
}

export interface FleetTable {
  schemes: string[];
  rows: FleetRow[];
  /** Σ d_k per scheme (same order). */
  totals: string[];
}

/**
 * The fleet: config.json `fleet` (f_k, distance, r_k), and per scheme the d_k each learner got,
 * read from learners.csv (`batch` is the same in every cycle of a scheme: take the first).
 * Learners missing from config.json (older runs) are taken from learners.csv.
 */
export function fleetTable(config: Json, learners: LearnerRow[]): FleetTable {
  const schemes = orderSchemes(learners.map((r) => r.scheme));
  const profiles = new Map<number, { f?: number; distance?: number; rate?: number }>();
  if (Array.isArray(config.fleet))
    for (const l of config.fleet) {
      const o = obj(l);
      const id = num(o?.id);
      if (o && id !== undefined)
        profiles.set(id, { f: num(o.f_hz), distance: num(o.distance_m), rate: num(o.rate_bps) });
    }
  const batch = new Map<string, number>(); // `${scheme}|${learner}` → d_k of the earliest cycle
  const firstCycle = new Map<string, number>();
  for (const r of learners) {
    const key = `${r.scheme}|${r.learner}`;
    if (!profiles.has(r.learner)) profiles.set(r.learner, { f: r.fHz, rate: r.rateBps });
    if (!(firstCycle.get(key)! <= r.cycle)) {
      firstCycle.set(key, r.cycle);
      batch.set(key, r.batch);
    }
  }
  const rows = [...profiles.entries()]
    .sort(([a], [b]) => a - b)
    .map(([id, p]) => ({
      id,
      fGhz: p.f === undefined ? '—' : ghz(p.f),
      distanceM: p.distance === undefined ? '—' : roundNumber(p.distance, 3),
      rateMbps: p.rate === undefined ? '—' : mbps(p.rate),
      batch: schemes.map((s) => {
        const b = batch.get(`${s}|${id}`);
        return b === undefined ? '—' : groupThousands(b);
      }),
    }));
  const totals = schemes.map((s) =>
    groupThousands([...batch.entries()].filter(([k]) => k.startsWith(`${s}|`)).reduce((sum, [, b]) => sum + b, 0)),
  );
  return { schemes, rows, totals };
}

export interface FactGroup {
  title: string;
  facts: Fact[];
}

/** Labels for the keys whose name alone says too little. */
const LABELS: Record<string, string> = {
  K: 'learners K',
  T: 'deadline T',
  lr: 'learning rate',
  alpha: 'Dirichlet α (null = IID)',
  train_samples: 'training samples d',
  wall_s: 'wall time, whole run',
  setup_wall_s: 'wall time, set-up',
  cycles_wall_s: 'wall time, all cycles',
  eval_wall_s: 'wall time, evaluation',
  cpu_hz_choices: 'CPU speed choices',
  data_bits: 'bits per input feature',
  model_bits: 'bits per model parameter',
  train_process_s: 'learner training (process-seconds)',
  pathloss_a_db: 'path loss A',
  pathloss_b_db: 'path loss B (exponent)',
  flops_per_sample: 'FLOP per sample (C_m)',
  lost_learner_cycles: 'lost learner-cycles',
  learner_cycles: 'learner-cycles',
  kappa_j_per_cycle_hz2: 'κ, switched capacitance',
  rx_power_w: 'receive power',
  budget_j: 'energy budget per learner-cycle',
  tau_max: 'τ cap (--tau-max)',
};

// The same key means the request in config.json and what ran in summary.json.
const CONFIG_LABELS: Record<string, string> = {
  engine: 'engine requested',
  backend: 'tfjs backend requested',
  engine_used: 'engine used',
  backend_used: 'engine used',
};
const SUMMARY_LABELS: Record<string, string> = { engine: 'engine used', backend: 'engine used' };

/** Unit suffixes of our JSON keys: strip them from the label and format the value with them. */
const UNITS: { re: RegExp; label: string; format: (v: number) => string }[] = [
  { re: /_j_per_cycle_hz2$/, label: '', format: (v) => `${v.toPrecision(3)} J/(cycle·Hz²)` },
  { re: /_j$/, label: '', format: (v) => `${roundNumber(v)} J` },
  { re: /_w$/, label: '', format: (v) => `${roundNumber(v)} W` },
  { re: /_hz_choices$/, label: ' choices', format: formatHz },
  { re: /_dbm_per_hz$/, label: '', format: (v) => `${roundNumber(v)} dBm/Hz` },
  { re: /_dbm$/, label: '', format: (v) => `${roundNumber(v)} dBm` },
  { re: /_db$/, label: '', format: (v) => `${roundNumber(v)} dB` },
  { re: /_hz$/, label: '', format: formatHz },
  { re: /_bps$/, label: '', format: (v) => `${mbps(v)} Mbit/s` },
  { re: /_mb$/, label: '', format: (v) => `${roundNumber(v)} MB` },
  { re: /_bits$/, label: '', format: (v) => `${roundNumber(v)} bits` },
  { re: /_m$/, label: '', format: (v) => `${roundNumber(v)} m` },
  { re: /_s$/, label: '', format: (v) => `${roundNumber(v)} s` },
  { re: /^fraction_of_/, label: 'share of ', format: (v) => percent(v) },
  { re: /^seconds$/, label: 'time', format: (v) => `${roundNumber(v)} s` },
];

/** "authFailures" / "drop_prob" → "auth failures" / "drop prob". */
function words(key: string): string {
  return key.replace(/([a-z])([A-Z])/g, (_, a: string, b: string) => `${a} ${b.toLowerCase()}`).replace(/_/g, ' ');
}

function plainValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return roundNumber(v);
  if (typeof v === 'string') return v === '' ? '—' : v;
  if (Array.isArray(v)) return v.length ? v.map(plainValue).join(', ') : 'none';
  return Object.entries(v as Json)
    .map(([k, x]) => `${words(k)} ${plainValue(x)}`)
    .join(', ');
}

/** One key/value fact, the unit taken from the key's suffix. */
export function describeField(key: string, value: unknown, labels: Record<string, string> = {}): Fact {
  const label = labels[key] ?? LABELS[key];
  if (key === 'kill' && Array.isArray(value))
    return { label: 'killed learners', value: value.length ? value.map(killText).join('; ') : 'none' };
  for (const u of UNITS)
    if (u.re.test(key)) {
      const values = Array.isArray(value) ? value : [value];
      const text = values.every((x) => typeof x === 'number')
        ? values.map((x) => u.format(x as number)).join(', ')
        : plainValue(value);
      return { label: label ?? words(key.replace(u.re, u.label)), value: text };
    }
  return { label: label ?? words(key), value: plainValue(value) };
}

/**
 * An object as tables: its scalar (and list) fields in one group titled `title`, each nested
 * object in a group of its own. `skip` names keys shown elsewhere (e.g. the fleet).
 */
export function factGroups(
  title: string,
  value: Json,
  opts: { skip?: readonly string[]; groupTitles?: Record<string, string>; labels?: Record<string, string> } = {},
): FactGroup[] {
  const { skip = [], groupTitles = {}, labels = {} } = opts;
  const top: Fact[] = [];
  const nested: FactGroup[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (skip.includes(key)) continue;
    const o = obj(v);
    if (o)
      nested.push({
        title: groupTitles[key] ?? words(key),
        facts: Object.entries(o).map(([k, x]) => describeField(k, x, labels)),
      });
    else top.push(describeField(key, v, labels));
  }
  return [...(top.length ? [{ title, facts: top }] : []), ...nested];
}

/** summary.json besides the per-scheme table: wall times, overhead, overruns, faults, connections. */
export function summaryGroups(summary: RunSummary): FactGroup[] {
  const { schemes: _schemes, ...rest } = summary;
  const groupTitles = {
    emulator_overhead: 'emulator overhead',
    overruns: 'real-clock overruns',
    hub: 'connections (hub)',
  };
  return factGroups('run', rest, { groupTitles, labels: SUMMARY_LABELS });
}

/** config.json minus the fleet (its own table). */
export function configGroups(config: Json): FactGroup[] {
  // Before the onnx engine, `backend` was the whole engine request (auto|wasm|cpu|…).
  const labels = 'engine' in config ? CONFIG_LABELS : { ...CONFIG_LABELS, backend: 'engine requested' };
  return factGroups('run', config, {
    skip: ['fleet'],
    groupTitles: { params: 'physical parameters (params)' },
    labels,
  });
}
