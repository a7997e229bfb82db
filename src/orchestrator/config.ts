/** The experiment's configuration: its shape is part of the run-folder schema (config.json holds it whole). */
export type { ExperimentConfig, FaultPlan } from '../run-folder/schema.ts';
