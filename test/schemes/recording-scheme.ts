/** The TypeScript example scheme, also appending every problem it is given to $MEL_TEST_RECORD (one JSON line each). */
import { appendFileSync } from 'node:fs';
import { allocate as proportional } from '../../examples/schemes/proportional.ts';

export const kind = 'common-tau';

export function allocate(problem: Parameters<typeof proportional>[0]) {
  if (process.env.MEL_TEST_RECORD) appendFileSync(process.env.MEL_TEST_RECORD, JSON.stringify(problem) + '\n');
  return proportional(problem);
}
