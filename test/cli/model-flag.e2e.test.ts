/**
 * --model on the commands: C_m and S_m reach every learner's coefficients (allocate --json shows
 * them as c2·f_hz and c0·rate/(2·32)), an explicit --flops-per-sample still wins, and bad specs
 * exit 2 with one line that lists the valid forms.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function run(script: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [script, ...args], { cwd: ROOT, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The distinct (C_m, S_m) pairs of the learners of an allocate --json report. */
async function workloadOfEveryLearner(...args: string[]): Promise<string[]> {
  const r = await run('src/cli/allocate.ts', '--K', '20', '--T', '12', '--json', ...args);
  expect(r.code, r.stderr).toBe(0);
  const learners = JSON.parse(r.stdout).learners as { f_hz: number; rate_bps: number; c0: number; c2: number }[];
  expect(learners).toHaveLength(20);
  return [
    ...new Set(learners.map((l) => `${Math.round(l.c2 * l.f_hz)}/${Math.round((l.c0 * l.rate_bps) / (2 * 32))}`)),
  ];
}

describe.concurrent('--model', () => {
  it('allocate --json: C_m and S_m of every learner follow the model', async () => {
    expect(await workloadOfEveryLearner()).toEqual(['1123736/280934']);
    expect(await workloadOfEveryLearner('--model', 'lenet5')).toEqual(['1692152/61706']);
    expect(await workloadOfEveryLearner('--model', 'mlp:784-128-10')).toEqual(['407080/101770']);
    expect(await workloadOfEveryLearner('--model', 'lenet5', '--flops-per-sample', '1000000')).toEqual([
      '1000000/61706',
    ]);
  });

  it('bad specs exit 2 with one line listing the valid forms, on every command that takes --model', async () => {
    for (const [script, model] of [
      ['src/cli/allocate.ts', 'mlp:784-0-10'],
      ['src/cli/allocate.ts', 'mlp:10-10'],
      ['src/cli/allocate.ts', 'vgg16'],
      ['src/cli/train-central.ts', 'mlp:10-10'],
      ['src/cli/experiment.ts', 'vgg16'],
      ['experiments/fig1.ts', 'mlp:784-0-10'],
    ]) {
      const r = await run(script, '--model', model);
      expect(r.code, `${script} ${model}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`bad model "${model}"`);
      expect(r.stderr).toContain('valid forms: mlp:IN-H1-…-OUT');
      expect(r.stderr).toContain('lenet5');
    }
  });
});

describe('experiment config from --model', () => {
  it('records the model; F, S_m and C_m are its own; an explicit --flops-per-sample still sets C_m', async () => {
    const { parseArgs } = await import('../../src/cli/args.ts');
    const { configFromArgs, spec } = await import('../../src/cli/experiment.ts');
    const config = (...argv: string[]) => configFromArgs(parseArgs(['--K', '4', ...argv], spec));
    expect(config('--model', 'lenet5')).toMatchObject({
      model: 'lenet5',
      params: { features: 784, model_params: 61_706, flops_per_sample: 1_692_152 },
    });
    expect(config()).toMatchObject({
      model: 'mlp:784-300-124-60-10',
      params: { model_params: 280_934, flops_per_sample: 1_123_736 },
    });
    expect(config('--model', 'mlp:784-128-10', '--flops-per-sample', '5e5').params).toMatchObject({
      model_params: 101_770,
      flops_per_sample: 5e5,
    });
  });
});
