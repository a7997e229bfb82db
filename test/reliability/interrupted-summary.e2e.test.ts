/**
 * An interrupted run's summary: a scheme that never ran is "not run" — null results in
 * summary.json, "not run" in the console table and in report.html — never a 0.00 % result.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventsOf } from '../../src/orchestrator/events.ts';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import { loadRunFolder } from '../../src/report/run-folder.ts';
import { renderRunReport } from '../../src/report/index.ts';
import { collectLog, fastConfig, tmpDir } from './helpers.ts';

describe('an interrupted run', () => {
  it('shows a scheme that never ran as not run, in summary.json, the console and the report', async () => {
    const config = fastConfig({ schemes: ['optimal', 'eta'], cycles: 2 });
    const log = collectLog();
    const abort = new AbortController();
    // Ctrl-C once optimal's first cycle is committed: optimal has 1 cycle, eta none.
    const run = await runExperiment(config, {
      out: join(tmpDir('interrupted'), 'run'),
      ...log.sinks,
      signal: abort.signal,
      onEvent: (e) => {
        log.onEvent(e);
        if (e.type === 'cycle-done') abort.abort();
      },
    });
    expect(run.interrupted).toBe(true);
    expect(run.completedCycles).toBe(1);

    const summary = JSON.parse(readFileSync(join(run.out, 'summary.json'), 'utf8'));
    expect(summary.schemes.eta).toEqual({
      cycles: 0,
      final_accuracy: null,
      best_accuracy: null,
      final_loss: null,
      cycles_to_96_67: null,
      cycles_to_97: null,
      emulated_time_to_97_s: null,
      mean_tau: null,
      tau: [],
      late_learner_cycles: 0,
      missing_learner_cycles: 0,
      emulated_time_to_96_67_s: null,
      deadline_miss_rate: null,
      mean_updates_aggregated: null,
      unavailable_learner_cycles: 0,
    });
    expect(summary.schemes.optimal.cycles).toBe(1);
    expect(summary.schemes.optimal.final_accuracy).toBeGreaterThan(0.3);

    const [table] = eventsOf(log.events, 'summary');
    expect(table.schemes.eta.final_accuracy).toBeNull();
    const text = log.lines.find((l) => l.includes('cycles→96.67%'))!;
    const etaRow = text.split('\n').find((l) => l.startsWith('eta'))!;
    expect(etaRow).toMatch(/^eta\s+0\s+not run$/);
    expect(text).not.toContain('0.00 %');

    expect((await loadRunFolder(run.out)).summary.schemes.eta.final_accuracy).toBeNull(); // the report's reader accepts it
    const outDir = tmpDir('interrupted-report');
    await renderRunReport(run.out, { outDir });
    const html = readFileSync(join(outDir, 'report.html'), 'utf8');
    expect(html).toMatch(/<th scope="row">ETA<\/th><td>not run<\/td>/);
    expect(html).not.toContain('0.00 %');
  });
});
