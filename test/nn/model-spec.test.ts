import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { DEFAULT_LAYOUT, PARAM_COUNT, weightLayout } from '../../src/nn/layout.ts';
import {
  DEFAULT_MODEL_NAME,
  flopsPerSample,
  forwardOperations,
  parameterCount,
  parseModelSpec,
} from '../../src/nn/model-spec.ts';
import { PAPER_PRESET } from '../../src/model/params.ts';
import { stepsPerRun } from '../../src/nn/onnx/engine.ts';

describe('onnx engine: steps per session run follow the compute', () => {
  it('the default keeps 64; lenet5 (1.5× C_m) runs 42, so a run blocks heartbeats no longer; lighter models keep 64', () => {
    expect(stepsPerRun(DEFAULT_LAYOUT)).toBe(64);
    expect(stepsPerRun(weightLayout(parseModelSpec('lenet5')))).toBe(42);
    expect(stepsPerRun(weightLayout(parseModelSpec('mlp:784-128-10')))).toBe(64);
    expect(stepsPerRun(weightLayout(parseModelSpec('mlp:784-2000-1000-10')))).toBe(5);
  });
});

describe('model spec: S_m and C_m from the network', () => {
  it('the paper MLP: 280,934 parameters and C_m = 4 × 280,934 = 1,123,736 (the paper figure)', () => {
    const m = parseModelSpec(DEFAULT_MODEL_NAME);
    expect(parameterCount(m)).toBe(280_934);
    expect(forwardOperations(m)).toEqual({ multiplyAdds: 280_440, biasAdds: 494 });
    expect(flopsPerSample(m)).toBe(1_123_736);
    expect(PARAM_COUNT).toBe(280_934);
    expect(PAPER_PRESET.flops_per_sample).toBe(1_123_736);
  });

  it('mlp:784-128-10: 4 × (784·128 + 128·10 + 138) = 407,080', () => {
    const m = parseModelSpec('mlp:784-128-10');
    expect(parameterCount(m)).toBe(101_770);
    expect(flopsPerSample(m)).toBe(407_080);
  });

  it('lenet5 on 1×28×28: 61,706 parameters, C_m = 1,692,152 (conv1 pad 2, dense 400-120-84-10)', () => {
    const m = parseModelSpec('lenet5');
    expect(parameterCount(m)).toBe(61_706);
    // conv1 28·28·6·25 + conv2 10·10·16·150 + 400·120 + 120·84 + 84·10; biases 4704 + 1600 + 120 + 84 + 10
    expect(forwardOperations(m)).toEqual({ multiplyAdds: 416_520, biasAdds: 6_518 });
    expect(flopsPerSample(m)).toBe(1_692_152);
    expect(m.layers.map((l) => l.kind)).toEqual([
      'conv',
      'avgpool',
      'conv',
      'avgpool',
      'flatten',
      'dense',
      'dense',
      'dense',
    ]);
    expect(m.layers[0]).toMatchObject({ padding: 2, inChannels: 1, outChannels: 6 });
  });

  it('lenet5 on 3×32×32 (CIFAR-10) pads 0, as the original LeNet, so the dense part stays 400-120-84-10', () => {
    const m = parseModelSpec('lenet5', { channels: 3, height: 32, width: 32 });
    expect(m.layers[0]).toMatchObject({ padding: 0, inChannels: 3 });
    expect(m.layers[4]).toEqual({ kind: 'flatten', size: 400 });
    expect(parameterCount(m)).toBe(61_706 + 2 * 150);
  });

  it('lenet5 on 3×32×32 by hand: S_m = 62,006, C_m = 4 × 658,238 = 2,632,952', () => {
    const m = parseModelSpec('lenet5', { channels: 3, height: 32, width: 32 });
    // conv1 3→6, 5×5, no padding: 32×32 → 28×28; pool → 14×14; conv2 6→16: 14 → 10; pool → 5×5; flatten 16·5·5 = 400
    const conv1 = { params: 6 * 3 * 25 + 6, macs: 28 * 28 * 6 * (3 * 25), biases: 28 * 28 * 6 }; // 456, 352,800, 4,704
    const conv2 = { params: 16 * 6 * 25 + 16, macs: 10 * 10 * 16 * (6 * 25), biases: 10 * 10 * 16 }; // 2,416, 240,000, 1,600
    const dense = [
      [400, 120],
      [120, 84],
      [84, 10],
    ].map(([i, o]) => ({ params: i * o + o, macs: i * o, biases: o }));
    const all = [conv1, conv2, ...dense];
    const sum = (key: 'params' | 'macs' | 'biases') => all.reduce((s, l) => s + l[key], 0);
    expect(sum('params')).toBe(62_006);
    expect(sum('macs')).toBe(651_720);
    expect(sum('biases')).toBe(6_518);
    expect(parameterCount(m)).toBe(62_006);
    expect(forwardOperations(m)).toEqual({ multiplyAdds: 651_720, biasAdds: 6_518 });
    expect(flopsPerSample(m)).toBe(4 * (651_720 + 6_518));
    expect(flopsPerSample(m)).toBe(2_632_952);
    expect(m.layers.filter((l) => l.kind === 'conv').map((l) => [l.inChannels, l.inHeight, l.padding])).toEqual([
      [3, 32, 0],
      [6, 14, 0],
    ]);
  });

  it('an MLP on CIFAR-10: every weight and bias is one forward operation, so C_m = 4 · S_m', () => {
    const m = parseModelSpec('mlp:3072-300-124-60-10', { channels: 3, height: 32, width: 32 });
    expect(parameterCount(m)).toBe(3072 * 300 + 300 + 300 * 124 + 124 + 124 * 60 + 60 + 60 * 10 + 10);
    expect(parameterCount(m)).toBe(967_334);
    expect(flopsPerSample(m)).toBe(3_869_336);
  });

  it('an MLP on 3×32×32 takes 3,072 inputs', () => {
    expect(parameterCount(parseModelSpec('mlp:3072-10-10', { channels: 3, height: 32, width: 32 }))).toBe(
      3072 * 10 + 10 + 110,
    );
    expect(() => parseModelSpec('mlp:784-10-10', { channels: 3, height: 32, width: 32 })).toThrow(/input size 3072/);
  });

  it('bad specs are InputErrors on one line that lists the valid forms', () => {
    for (const [text, why] of [
      ['mlp:784-0-10', /positive integers/],
      ['mlp:10-10', /at least one hidden layer/],
      ['mlp:10-20-10', /input size 784/],
      ['mlp:784-20-9', /class count 10/],
      ['mlp:784-x-10', /positive integers/],
      ['resnet', /unknown model/],
      ['', /unknown model/],
    ] as const) {
      let error: unknown;
      try {
        parseModelSpec(text);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(InputError);
      const message = (error as Error).message;
      expect(message).toMatch(why);
      expect(message).toContain('valid forms: mlp:IN-H1-…-OUT');
      expect(message).toContain('lenet5');
      expect(message).not.toContain('\n');
    }
  });

  it('canonical names round-trip; the layout puts each layer W then b, conv weights [out][in][k][k]', () => {
    expect(parseModelSpec(' mlp:0784-300-124-60-10 ').name).toBe(DEFAULT_MODEL_NAME);
    const lenet = weightLayout(parseModelSpec('lenet5'));
    expect(lenet.count).toBe(61_706);
    expect(lenet.layers.map((l) => [l.inputs, l.outputs, l.weightOffset, l.biasOffset])).toEqual([
      [25, 6, 0, 150],
      [150, 16, 156, 156 + 2400],
      [400, 120, 2572, 2572 + 48000],
      [120, 84, 50692, 50692 + 10080],
      [84, 10, 60856, 60856 + 840],
    ]);
    expect(DEFAULT_LAYOUT.layers.map((l) => [l.inputs, l.outputs])).toEqual([
      [784, 300],
      [300, 124],
      [124, 60],
      [60, 10],
    ]);
  });
});
