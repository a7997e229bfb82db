import { describe, expect, it } from 'vitest';
import { headerFacts } from '../../src/report/run-facts.ts';

const fact = (config: Record<string, unknown>) => headerFacts(config, {}).find((f) => f.label === 'model')?.value;

describe('report header: the model (--model)', () => {
  it('names the model with the S_m and C_m the allocation used; runs from before --model show nothing', () => {
    expect(fact({ model: 'lenet5', params: { model_params: 61706, flops_per_sample: 1692152 } })).toBe(
      'lenet5: S_m = 61,706 parameters, C_m = 1,692,152 FLOP per sample',
    );
    expect(fact({ model: 'mlp:784-128-10' })).toBe('mlp:784-128-10');
    expect(fact({ params: { model_params: 280934 } })).toBeUndefined();
  });
});

describe('report header: the data set (--dataset)', () => {
  const data = (config: Record<string, unknown>) => headerFacts(config, {}).find((f) => f.label === 'data')?.value;
  it('names it; runs from before --dataset (MNIST) name none', () => {
    expect(data({ dataset: 'cifar10', train_samples: 50000, test_samples: 10000 })).toBe(
      'CIFAR-10: d = 50,000 training samples, 10,000 test images',
    );
    expect(data({ dataset: 'mnist', train_samples: 60000 })).toMatch(/^MNIST: d = 60,000 training samples/);
    expect(data({ train_samples: 60000 })).toMatch(/^d = 60,000 training samples/);
  });
});
