/** The SystemParams of the parsed system-parameter settings (declared in settings.ts). */
import { UsageError } from './args.ts';
import type { ArgsOf } from './settings.ts';
import { workloadParams, type SystemParams } from '../model/params.ts';
import { datasetShape, type DatasetName } from '../data/datasets.ts';
import { defaultModelName, parseModelSpec, type ModelSpec } from '../nn/model-spec.ts';

/**
 * The --model of a command for the samples of its --dataset (InputError listing the valid forms when
 * bad). Not given: the paper's MLP on the data set's input (mlp:784-… on MNIST, mlp:3072-… on CIFAR-10).
 */
export function modelFromArgs(args: { model?: string; dataset?: DatasetName; given?: ReadonlySet<string> }): ModelSpec {
  const input = datasetShape(args.dataset);
  const chosen = args.given !== undefined && !args.given.has('model') ? undefined : args.model;
  return parseModelSpec(chosen ?? defaultModelName(input), input);
}

/** The system-parameter settings, as `npm run allocate` takes them all (experiment fixes the wire's). */
export type SystemParamArgs = Pick<
  ArgsOf<'allocate'>,
  | 'given'
  | 'model'
  | 'bandwidthHz'
  | 'txPowerDbm'
  | 'noiseDbmPerHz'
  | 'pathlossADb'
  | 'pathlossBDb'
  | 'radiusM'
  | 'cpuHz'
  | 'dataBits'
  | 'modelBits'
  | 'modelCoeffsPerSample'
> &
  // A command without these flags takes the --model's values.
  Partial<Pick<ArgsOf<'allocate'>, 'features' | 'modelParams' | 'flopsPerSample'>>;

/** SystemParams from the flags; F, S_m and C_m follow --model unless given explicitly. */
export function systemParamsFromArgs(args: SystemParamArgs): SystemParams {
  const workload = workloadParams(modelFromArgs(args));
  const pick = <K extends keyof typeof workload>(flag: string, key: K, given: number | undefined) =>
    args.given.has(flag) && given !== undefined ? given : workload[key];
  const cpu_hz_choices = args.cpuHz.map((raw) => {
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--cpu-hz values must be numbers > 0 Hz, got "${raw}"`);
    return v;
  });
  return {
    bandwidth_hz: args.bandwidthHz,
    tx_power_dbm: args.txPowerDbm,
    noise_dbm_per_hz: args.noiseDbmPerHz,
    pathloss_a_db: args.pathlossADb,
    pathloss_b_db: args.pathlossBDb,
    radius_m: args.radiusM,
    cpu_hz_choices,
    features: pick('features', 'features', args.features),
    data_bits: args.dataBits,
    model_bits: args.modelBits,
    model_coeffs_per_sample: args.modelCoeffsPerSample,
    model_params: pick('model-params', 'model_params', args.modelParams),
    flops_per_sample: pick('flops-per-sample', 'flops_per_sample', args.flopsPerSample),
  };
}
