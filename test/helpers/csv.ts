/** A run-folder CSV as objects keyed by the header (our files never quote fields). */
import { readFileSync } from 'node:fs';

export function readCsvObjects(path: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const keys = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [keys[i], v])));
}
