/**
 * The flags that turn `npm run experiment` into a campaign over seeds. Kept apart from campaign.ts so
 * a plain run does not load the campaign code and, through it, the chart renderer (vega, d3, resvg):
 * every module an orchestrator loads is heap its garbage collector walks, ~20 times a cycle at K = 1000.
 */
import { SEED_EFFECTS } from '../campaign/seeds.ts';
import type { FlagSpec } from './args.ts';

export const CAMPAIGN_FLAGS: FlagSpec[] = [
  {
    name: 'seeds',
    type: 'string',
    help:
      'repeat the whole comparison once per seed: N = N seeds from --seed on, or a list like 1,4,9; each seed gets OUT/seed-S/ ' +
      `and OUT gets aggregate.csv, summary.json (means, 95 % CIs, paired adaptive − ETA tests) and charts; rerun the same command to resume. ${SEED_EFFECTS}`,
  },
  {
    name: 'fixed-fleet',
    type: 'boolean',
    default: false,
    help: 'with --seeds: every seed keeps the fleet of the first seed, so only the training randomness (weights, data order, jitter, faults) varies',
  },
];
