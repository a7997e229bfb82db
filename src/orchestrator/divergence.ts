/**
 * Training that diverges (a learning rate too high for the model): learners report non-finite
 * weights instead of a result. That is not a host fault — the learner is alive and answered — and
 * when every learner given work reports it, the run cannot learn anything more: the global model
 * stays as it was, so every later cycle (and every scheme, same model and rate) diverges the same way.
 */
import { InputError } from '../errors.ts';
import { DEFAULT_EXPERIMENT } from './config.ts';
import type { LearnerRecord } from './cycle.ts';

/** learners.csv `reason` of a learner whose local training produced NaN/Inf weights. */
export const TRAINING_DIVERGED_REASON = 'training diverged (non-finite weights)';

/** The learner answered: its training diverged (it is alive, not stuck). */
export const isTrainingDiverged = (reason: string | undefined): boolean => reason === TRAINING_DIVERGED_REASON;

/** Every learner given work this cycle reported non-finite weights (at least one was given work). */
export function everyLearnerDiverged(records: readonly LearnerRecord[]): boolean {
  const tasked = records.filter((r) => r.batch > 0);
  return tasked.length > 0 && tasked.every((r) => r.status === 'missing' && isTrainingDiverged(r.reason));
}

/** Stops the run: the fix is the user's (--lr), so it ends like bad input (one line, exit 2). */
export class TrainingDiverged extends InputError {
  constructor(scheme: string, cycle: number, lr: number) {
    super(
      `training diverged: in ${scheme} cycle ${cycle} every learner's weights became non-finite (NaN/Inf) with --lr ${lr}; ` +
        `the run stopped (completed cycles are kept). Lower the learning rate (the default is --lr ${DEFAULT_EXPERIMENT.lr})`,
    );
  }
}
