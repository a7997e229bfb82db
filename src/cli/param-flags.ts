/**
 * Every SystemParams field as a command-line flag (with unit and Table I default), so that every
 * command exposes the same overrides with the same names.
 */
import { UsageError, type FlagSpec, type ParsedArgs } from './args.ts';
import { PAPER_PRESET, workloadParams, type SystemParams } from '../model/params.ts';
import { DEFAULT_MODEL_NAME, MODEL_FORMS, parseModelSpec, type ModelSpec } from '../nn/model-spec.ts';

/** The network (model-spec.ts): its size S_m, compute C_m and input size F feed the time model. */
export const MODEL_FLAG: FlagSpec = {
  name: 'model',
  type: 'string',
  default: DEFAULT_MODEL_NAME,
  help: `network: ${MODEL_FORMS}; sets F, S_m and C_m = 4·(multiply-adds + bias additions) per sample (an explicit --flops-per-sample wins, and where they are flags --features and --model-params)`,
};

/** The --model of a command (InputError listing the valid forms when bad). */
export const modelFromArgs = (args: Record<string, any>): ModelSpec => parseModelSpec(args.model ?? DEFAULT_MODEL_NAME);

export function systemParamFlags(defaults: SystemParams = PAPER_PRESET): FlagSpec[] {
  return [
    { name: 'bandwidth-hz', type: 'number', unit: 'Hz', exclusiveMin: 0, default: defaults.bandwidth_hz, help: 'channel bandwidth W per learner' },
    { name: 'tx-power-dbm', type: 'number', unit: 'dBm', default: defaults.tx_power_dbm, help: 'transmit power P' },
    { name: 'noise-dbm-per-hz', type: 'number', unit: 'dBm/Hz', default: defaults.noise_dbm_per_hz, help: 'noise power spectral density N0 (noise power N0·W)' },
    { name: 'pathloss-a-db', type: 'number', unit: 'dB', default: defaults.pathloss_a_db, help: 'path loss a in a + b·log10(distance in m)' },
    { name: 'pathloss-b-db', type: 'number', unit: 'dB', default: defaults.pathloss_b_db, help: 'path loss b in a + b·log10(distance in m)' },
    { name: 'radius-m', type: 'number', unit: 'm', exclusiveMin: 0, default: defaults.radius_m, help: 'learners are placed uniformly in a disc of this radius' },
    { name: 'cpu-hz', type: 'list', unit: 'Hz', default: defaults.cpu_hz_choices.map(String), help: 'CPU speeds; the fleet is split into equal consecutive groups, one per value' },
    { name: 'features', type: 'int', unit: 'features/sample', min: 1, default: defaults.features, help: 'F, features per sample' },
    { name: 'data-bits', type: 'int', unit: 'bits/feature', min: 1, default: defaults.data_bits, help: 'P_d, bits per feature' },
    { name: 'model-bits', type: 'int', unit: 'bits/coefficient', min: 1, default: defaults.model_bits, help: 'P_m, bits per model coefficient' },
    { name: 'model-coeffs-per-sample', type: 'number', unit: 'coefficients/sample', min: 0, default: defaults.model_coeffs_per_sample, help: 'S_d, model coefficients per batch sample' },
    { name: 'model-params', type: 'int', unit: 'coefficients', min: 1, default: defaults.model_params, help: 'S_m, model size (default: the --model\'s parameter count, weights and biases)' },
    { name: 'flops-per-sample', type: 'number', unit: 'FLOP', min: 1, default: defaults.flops_per_sample, help: 'C_m, FLOPs per sample per local iteration (default: the --model\'s)' },
  ];
}

/** SystemParams from the flags; F, S_m and C_m follow --model unless given explicitly. */
export function systemParamsFromArgs(args: ParsedArgs): SystemParams {
  const workload = workloadParams(modelFromArgs(args));
  const pick = <K extends keyof typeof workload>(flag: string, key: K, given: number) => (args.given?.has(flag) ? given : workload[key]);
  const cpu_hz_choices = (args.cpuHz as string[]).map((raw) => {
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
