/**
 * Issue 27 end to end, with real processes: a diverging learning rate stops the run once and says
 * why; --tau-max making two schemes identical is said and recorded; Ctrl-C while waiting for
 * external learners leaves nothing behind; "waiting for" comes before the first join; resuming a
 * complete --no-report run renders nothing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLines, startExperiment, tiny } from '../helpers/experiment-cli.ts';
import { tmpDir } from '../helpers/tmp.ts';

const tmp = () => tmpDir('new-user');

describe('a learning rate that makes training diverge (item 5)', () => {
  it('stops the run after the first cycle with one line naming --lr, exit 2, and restarts no learner', async () => {
    const out = join(tmp(), 'run');
    const run = startExperiment(tiny({ K: '4', lr: '1000', cycles: '4', 'train-samples': '400', out }));
    const { code, stderr } = await run.exit;
    expect(code, stderr).toBe(2);
    const errors = errorLines(stderr);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^error: training diverged: in optimal cycle 1 every learner's weights became non-finite \(NaN\/Inf\) with --lr 1000; .*\(the default is --lr 0\.1\)$/,
    );
    expect(stderr).not.toMatch(/missed \d+ cycles in a row|killed it and started|non_finite/);
    expect(stderr).toContain('missing 4 (0-3: training diverged (non-finite weights))');
    // what completed is kept: one cycle, and a summary that says so
    expect(readFileSync(join(out, 'cycles.csv'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
  });
});

describe('--tau-max making two schemes identical (item 3)', () => {
  it('is said at set-up and recorded in summary.json', async () => {
    const out = join(tmp(), 'run');
    const run = startExperiment([
      ...tiny({
        K: '4',
        T: '30',
        'train-samples': '600',
        'tau-max': '20',
        schemes: 'optimal,eta',
        cycles: '1',
        'flops-per-sample': '1123736',
        out,
      }),
    ]);
    const { code, stderr } = await run.exit;
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(
      'note: optimal and eta get identical allocations (the same d_k and τ for every learner) because --tau-max 20 caps their τ',
    );
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).identical_allocations).toEqual([
      ['optimal', 'eta'],
    ]);
  });
});

describe('the console in order (item 14)', () => {
  it('says "waiting for" before any learner joined', async () => {
    const out = join(tmp(), 'run');
    const { code, stderr } = await startExperiment(tiny({ K: '3', cycles: '1', out })).exit;
    expect(code, stderr).toBe(0);
    const waiting = stderr.indexOf('waiting for 3 learners');
    expect(waiting).toBeGreaterThanOrEqual(0);
    expect(stderr.indexOf('joined from')).toBeGreaterThan(waiting);
  });

  it('resuming a complete --no-report run changes nothing: no report appears', async () => {
    const out = join(tmp(), 'run');
    expect((await startExperiment(tiny({ cycles: '1', out })).exit).code).toBe(0);
    const { code, stderr } = await startExperiment(['--resume', out]).exit;
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/is complete/);
    expect(readdirSync(out).filter((f) => f.endsWith('.html') || f.endsWith('.svg'))).toEqual([]);
  });
});

describe('an impossible T (item 14)', () => {
  it('shorter than the model exchange suggests raising T or the link rate, not fewer samples', async () => {
    const { code, stderr } = await startExperiment(tiny({ T: '0.001' })).exit;
    expect(code).toBe(2);
    const [line] = errorLines(stderr);
    expect(line).toMatch(
      /shorter than the model exchange time of every learner.*Raise --T above it, or give the links more rate/,
    );
    expect(line).not.toMatch(/--train-samples/);
  });
});

describe('Ctrl-C while waiting for external learners (item 13)', () => {
  it('removes what the run wrote: the learner commands (they hold the token) and the folder it made', async () => {
    const out = join(tmp(), 'run');
    const run = startExperiment(tiny({ K: '12', external: 'x', port: '0', out }).filter((a) => a !== 'x'));
    await run.when(/waiting for 12 learners/);
    expect(readFileSync(join(out, 'learner-commands.txt'), 'utf8')).toMatch(/MEL_TOKEN=\w+ npm run learner/);
    run.child.kill('SIGINT');
    const { code, stderr } = await run.exit;
    expect(code, stderr).toBe(130);
    expect(existsSync(join(out, 'learner-commands.txt'))).toBe(false);
    expect(existsSync(out)).toBe(false);
  });
});
