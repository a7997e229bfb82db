/**
 * --dataset cifar10 end to end, on small files in the exact CIFAR-10 binary format (the real data
 * set is not on the test machines): experiments with lenet5 and an MLP complete and learn, the
 * welcome's 3×32×32 shape reaches the learners (3,072 image bytes per sample in tasks and shards),
 * allocate shows C_m and S_m for that input, and a missing or truncated file exits 2 on one line.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCifarFixture } from '../helpers/cifar-fixture.ts';
import { tmpDir } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
let scratch: string;
let data: string;

function run(script: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [script, ...args], { cwd: ROOT, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(() => {
  scratch = tmpDir('cifar-e2e');
  data = writeCifarFixture(join(scratch, 'cifar-10-batches-bin'), { perBatch: 100, test: 100 });
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs an experiment on the fixture; returns its cycles.csv rows and config.json. */
async function experiment(name: string, ...flags: string[]) {
  const out = join(scratch, name);
  const r = await run(
    'src/cli/experiment.ts',
    ...['--dataset', 'cifar10', '--data-dir', data, '--K', '3', '--cycles', '2', '--schemes', 'optimal,eta'],
    ...['--train-samples', '300', '--test-samples', '100', '--no-report', '--out', out, ...flags],
  );
  expect(r.code, r.stderr).toBe(0);
  const [head, ...rows] = readFileSync(join(out, 'cycles.csv'), 'utf8').trim().split('\n');
  const accuracy = head.split(',').indexOf('test_accuracy');
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  return { rows, accuracies: rows.map((row) => Number(row.split(',')[accuracy])), config };
}

describe.concurrent('--dataset cifar10', () => {
  it('lenet5 on 3×32×32 trains (onnx) and writes cycles.csv; config.json records the data set and its workload', async () => {
    const { rows, accuracies, config } = await experiment('lenet5', '--model', 'lenet5', '--T', '6', '--tau-max', '4');
    expect(rows).toHaveLength(4); // 2 schemes × 2 cycles
    expect(Math.max(...accuracies)).toBeGreaterThan(0.5); // 10 classes: chance is 0.1
    expect(config).toMatchObject({
      dataset: 'cifar10',
      model: 'lenet5',
      params: { features: 3072, model_params: 62_006, flops_per_sample: 2_632_952 },
    });
  });

  it('an MLP mlp:3072-…-10 trains on the tfjs engine, federated (3,072-byte rows in the shards)', async () => {
    const { rows, accuracies, config } = await experiment(
      'mlp',
      ...['--model', 'mlp:3072-64-10', '--T', '4', '--engine', 'tfjs', '--scenario', 'federated', '--tau-max', '4'],
    );
    expect(rows).toHaveLength(4);
    expect(Math.max(...accuracies)).toBeGreaterThan(0.5);
    expect(config.params).toMatchObject({ features: 3072, model_params: 197_322, flops_per_sample: 789_288 });
  });

  it('allocate --json: C_m and S_m of every learner are the model on 3×32×32', async () => {
    for (const [model, workload] of [
      ['lenet5', '2632952/62006'],
      ['mlp:3072-64-10', '789288/197322'],
    ]) {
      const r = await run(
        'src/cli/allocate.ts',
        '--K',
        '20',
        '--T',
        '12',
        '--json',
        '--dataset',
        'cifar10',
        '--model',
        model,
      );
      expect(r.code, r.stderr).toBe(0);
      const learners = JSON.parse(r.stdout).learners as { f_hz: number; rate_bps: number; c0: number; c2: number }[];
      const pairs = learners.map((l) => `${Math.round(l.c2 * l.f_hz)}/${Math.round((l.c0 * l.rate_bps) / (2 * 32))}`);
      expect([...new Set(pairs)]).toEqual([workload]);
    }
  });

  it('bad input exits 2 with one line naming the problem and the fix', async () => {
    const broken = writeCifarFixture(join(scratch, 'broken'), { perBatch: 2, test: 2 });
    truncateSync(join(broken, 'data_batch_2.bin'), 4000);
    const missing = writeCifarFixture(join(scratch, 'missing'), { perBatch: 2, test: 2 });
    unlinkSync(join(missing, 'test_batch.bin'));
    const cases: [string[], string][] = [
      [
        ['--model', 'lenet5', '--data-dir', broken],
        `${join(broken, 'data_batch_2.bin')}: expected whole 3073-byte records`,
      ],
      [
        ['--model', 'lenet5', '--data-dir', missing],
        `${join(missing, 'test_batch.bin')} not found; --data-dir must hold`,
      ],
      [['--model', 'lenet5'], '--dataset cifar10 needs --data-dir DIR'],
      [['--data-dir', data, '--model', 'mlp:784-64-10'], 'the first size must be the input size 3072'],
    ];
    for (const [flags, text] of cases) {
      const r = await run(
        'src/cli/experiment.ts',
        ...['--dataset', 'cifar10', '--K', '2', '--train-samples', '4', '--test-samples', '2'],
        ...['--out', join(scratch, 'never'), ...flags],
      );
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toContain(text);
    }
    const central = await run('src/cli/train-central.ts', '--dataset', 'cifar10', '--data-dir', broken);
    expect(central.code).toBe(2);
    expect(central.stderr).toContain('data_batch_2.bin: expected whole 3073-byte records');
  });
});

describe('experiment config from --dataset', () => {
  it("without --model, CIFAR-10 takes the paper's hidden layers on its 3,072 inputs; MNIST's default is unchanged", async () => {
    const { parseArgs } = await import('../../src/cli/args.ts');
    const { configFromArgs, spec } = await import('../../src/cli/experiment.ts');
    const config = (...argv: string[]) => configFromArgs(parseArgs(['--K', '4', ...argv], spec));
    expect(config('--dataset', 'cifar10')).toMatchObject({
      dataset: 'cifar10',
      model: 'mlp:3072-300-124-60-10',
      params: { features: 3072, model_params: 967_334, flops_per_sample: 3_869_336 },
    });
    expect(config()).toMatchObject({ dataset: 'mnist', model: 'mlp:784-300-124-60-10', params: { features: 784 } });
  });
});
