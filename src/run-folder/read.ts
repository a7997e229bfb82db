/**
 * Typed readers of the run-folder files (and the Fig. 1 tables). Every problem is a RunFileError
 * naming the file, line and column, so each command can print one clear line.
 */
import { FieldReader, parseCsv, type CsvRecord } from './csv.ts';
import { RunFileError } from './errors.ts';
import {
  ACCURACY_TARGETS,
  cyclesToKey,
  CYCLES_HEADER,
  CYCLES_HEADER_BEFORE_DYNAMICS,
  FIG1_HEADER,
  LEARNERS_HEADER,
  LEARNERS_HEADER_LATE_OR_MISSING,
  LEARNERS_HEADER_WITHOUT_REASON,
  LEARNERS_HEADER_WITHOUT_TAU,
  WALL_PHASES_HEADER,
  type CycleRow,
  type Fig1Row,
  type LearnerRow,
  type LearnerStatus,
  type RunSummaryRead,
  type WallPhaseRow,
} from './schema.ts';

export function parseCycles(text: string, file: string): CycleRow[] {
  return parseCsv(text, file, CYCLES_HEADER, [CYCLES_HEADER_BEFORE_DYNAMICS]).map((rec) => {
    const r = new FieldReader(file, rec);
    return {
      scheme: r.text('scheme'),
      cycle: r.integer('cycle', 1),
      tau: r.integer('tau', 0),
      testAccuracy: r.number('test_accuracy', 0, 1),
      testLoss: r.number('test_loss', 0),
      emulatedTimeS: r.number('emulated_time_s', 0),
      maxLearnerTimeS: r.number('max_learner_time_s', 0),
      lateLearners: r.integer('late_learners', 0),
      wallTimeS: r.number('wall_time_s', 0),
      updatesAggregated: optionalInteger(r, 'updates_aggregated'),
      taskedLearners: optionalInteger(r, 'tasked_learners'),
      unavailableLearners: optionalInteger(r, 'unavailable_learners'),
    };
  });
}

/** A count column that an older file lacks (empty → null). */
function optionalInteger(r: FieldReader, column: string): number | null {
  const v = r.optionalNumber(column, 0);
  return v === null ? null : r.integer(column, 0);
}

export function parseLearners(text: string, file: string): LearnerRow[] {
  const older = [LEARNERS_HEADER_LATE_OR_MISSING, LEARNERS_HEADER_WITHOUT_TAU, LEARNERS_HEADER_WITHOUT_REASON];
  return parseCsv(text, file, LEARNERS_HEADER, older).map((rec) => {
    const r = new FieldReader(file, rec);
    const status = learnerStatus(r, rec, file);
    const batch = r.integer('batch', 0);
    // Only a learner that never reported (or had nothing to do) may lack its times.
    const mayBeEmpty = status === 'missing' || batch === 0;
    const time = (c: string) => (mayBeEmpty ? r.optionalNumber(c, 0) : r.number(c, 0));
    const reason = r.optionalText('reason');
    return {
      scheme: r.text('scheme'),
      cycle: r.integer('cycle', 1),
      learner: r.integer('learner', 0),
      fHz: r.number('f_hz', 0),
      rateBps: r.number('rate_bps', 0),
      batch,
      tSendS: time('t_send_s'),
      tComputeS: time('t_compute_s'),
      tReturnS: time('t_return_s'),
      tTotalS: time('t_total_s'),
      status,
      reason: reason === '' ? null : reason,
      tau: r.optionalNumber('tau', 0),
      energyJ: r.optionalNumber('energy_j', 0),
      energyComputeJ: r.optionalNumber('energy_compute_j', 0),
      energyRadioJ: r.optionalNumber('energy_radio_j', 0),
    };
  });
}

/** Today's rows: `late` and `missing` 0/1 (not both 1); older ones (no `missing`): `late` 0, 1 or "missing". */
function learnerStatus(r: FieldReader, rec: CsvRecord, file: string): LearnerStatus {
  if (r.optionalText('missing') === '') {
    const late = r.oneOf('late', ['0', '1', 'missing'] as const);
    return late === '1' ? 'late' : late === 'missing' ? 'missing' : 'on-time';
  }
  const late = r.oneOf('late', ['0', '1'] as const);
  const missing = r.oneOf('missing', ['0', '1'] as const);
  if (late === '1' && missing === '1')
    throw new RunFileError(
      `${file}:${rec.line}: late and missing are both 1; a learner is late or missing, not both`,
      file,
    );
  return missing === '1' ? 'missing' : late === '1' ? 'late' : 'on-time';
}

export function parseWallPhases(text: string, file: string): WallPhaseRow[] {
  return parseCsv(text, file, WALL_PHASES_HEADER).map((rec) => {
    const r = new FieldReader(file, rec);
    return {
      scheme: r.text('scheme'),
      cycle: r.integer('cycle', 1),
      learner: r.integer('learner', 0),
      wallSendS: r.number('wall_send_s', 0),
      wallComputeS: r.number('wall_compute_s', 0),
      wallReturnS: r.number('wall_return_s', 0),
      trainWallS: r.optionalNumber('train_wall_s', 0),
      overrunS: r.optionalNumber('overrun_s', 0),
    };
  });
}

export function parseFig1(text: string, file: string): Fig1Row[] {
  return parseCsv(text, file, FIG1_HEADER).map((rec) => {
    const r = new FieldReader(file, rec);
    const feasibleFraction = r.number('feasible_fraction', 0, 1);
    // An all-infeasible point has no τ to average; anything else must have one.
    const tau = (c: string) => (feasibleFraction === 0 ? r.optionalNumber(c, 0) : r.number(c, 0));
    return {
      scheme: r.text('scheme'),
      K: r.integer('K', 1),
      T: r.number('T', 0),
      tauMean: tau('tau_mean'),
      tauMin: tau('tau_min'),
      tauMax: tau('tau_max'),
      feasibleFraction,
      seeds: r.integer('seeds', 1),
    };
  });
}

// Required per scheme; nullable ones are null when not reached — or, for the accuracy and mean τ, when the scheme never ran.
const SUMMARY_FIELDS: [key: string, nullable: boolean][] = [
  ['final_accuracy', true],
  ['mean_tau', true],
  ['late_learner_cycles', false],
  ['missing_learner_cycles', false],
];

/** `targets`: the run's accuracy targets (runTargets of its config.json); each needs its cycles_to_* key. */
export function validateSummary(
  value: Record<string, unknown>,
  file: string,
  targets: readonly number[] = ACCURACY_TARGETS,
): RunSummaryRead {
  const fields: [string, boolean][] = [
    ...SUMMARY_FIELDS,
    ...targets.map((t): [string, boolean] => [cyclesToKey(t), true]),
  ];
  const schemes = value.schemes;
  if (schemes === null || typeof schemes !== 'object' || Array.isArray(schemes))
    throw new RunFileError(`${file}: "schemes" must be an object keyed by scheme name`, file);
  for (const [name, s] of Object.entries(schemes as Record<string, unknown>)) {
    if (s === null || typeof s !== 'object') throw new RunFileError(`${file}: schemes.${name} must be an object`, file);
    const o = s as Record<string, unknown>;
    for (const [k, nullable] of fields)
      if (typeof o[k] !== 'number' && !(nullable && o[k] === null))
        throw new RunFileError(
          `${file}: schemes.${name}.${k} must be a number${nullable ? ' or null' : ''}, got ${JSON.stringify(o[k])}`,
          file,
        );
    if (o.best_accuracy !== undefined && o.best_accuracy !== null && typeof o.best_accuracy !== 'number')
      throw new RunFileError(`${file}: schemes.${name}.best_accuracy must be a number or null`, file);
  }
  return value as RunSummaryRead;
}
