/**
 * /metrics: the dashboard's snapshot in the Prometheus text exposition format (version 0.0.4):
 * a HELP and a TYPE line per metric, then one sample per series, labelled by scheme (and by
 * seed and cell for the runs of campaigns and sweeps). Names and meanings: docs/dashboard.md.
 */
import type { RunSnapshot, Snapshot } from './state.ts';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface MetricDef {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  /** per scheme: the value of a run's scheme, or undefined for no sample; per run: no scheme label */
  scheme?: (run: RunSnapshot, scheme: string) => number | undefined;
  run?: (run: RunSnapshot) => number | undefined;
}

const last = (run: RunSnapshot, scheme: string) => run.points[scheme]?.at(-1);

/** Every metric the dashboard exports, in the order of the page. */
export const METRICS: MetricDef[] = [
  {
    name: 'mel_cycle',
    type: 'gauge',
    help: 'Last completed global cycle of the scheme (0 before the first).',
    scheme: (r, s) => last(r, s)?.cycle ?? 0,
  },
  {
    name: 'mel_cycles_planned',
    type: 'gauge',
    help: 'Global cycles the run does per scheme.',
    scheme: (r) => r.settings?.cycles,
  },
  {
    name: 'mel_test_accuracy',
    type: 'gauge',
    help: 'Test accuracy (0..1) of the global model after the last completed cycle.',
    scheme: (r, s) => last(r, s)?.accuracy,
  },
  {
    name: 'mel_test_loss',
    type: 'gauge',
    help: 'Test loss (cross-entropy) of the global model after the last completed cycle.',
    scheme: (r, s) => last(r, s)?.loss,
  },
  {
    name: 'mel_tau',
    type: 'gauge',
    help: 'Local iterations per learner (minimum tau_k) in the last completed cycle.',
    scheme: (r, s) => last(r, s)?.tau,
  },
  {
    name: 'mel_late_learners',
    type: 'gauge',
    help: 'Learners past the deadline T in the last completed cycle.',
    scheme: (r, s) => last(r, s)?.late,
  },
  {
    name: 'mel_missing_learners',
    type: 'gauge',
    help: 'Learners given a batch whose result never came in the last completed cycle.',
    scheme: (r, s) => last(r, s)?.missing,
  },
  {
    name: 'mel_cycle_wall_seconds',
    type: 'gauge',
    help: 'Wall-clock seconds the last completed cycle took.',
    scheme: (r, s) => last(r, s)?.wall_s,
  },
  {
    name: 'mel_bytes_sent_total',
    type: 'counter',
    help: 'Task bytes (batch and global weights) the orchestrator put on the wire to learners, as frames.',
    scheme: (r, s) => r.totals[s]?.bytes_sent ?? 0,
  },
  {
    name: 'mel_bytes_received_total',
    type: 'counter',
    help: 'Result bytes (updated weights) received from learners, as frames.',
    scheme: (r, s) => r.totals[s]?.bytes_received ?? 0,
  },
  {
    name: 'mel_learners_connected',
    type: 'gauge',
    help: 'Learners connected to the orchestrator now.',
    run: (r) => r.connected,
  },
  {
    name: 'mel_run_eta_seconds',
    type: 'gauge',
    help: 'Estimated wall-clock seconds until the run ends (mean cycle wall time so far).',
    run: (r) => r.eta_s ?? undefined,
  },
];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function sample(name: string, labels: Record<string, string>, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}`;
}

export function prometheusText(snapshot: Snapshot): string {
  const lines: string[] = [];
  for (const m of METRICS) {
    lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    for (const run of snapshot.runs) {
      if (m.run) {
        const v = m.run(run);
        if (v !== undefined) lines.push(sample(m.name, run.labels, v));
        continue;
      }
      for (const scheme of run.schemes) {
        const v = m.scheme!(run, scheme);
        if (v !== undefined) lines.push(sample(m.name, { ...run.labels, scheme }, v));
      }
    }
  }
  return lines.join('\n') + '\n';
}
