/** The tests' one way to make a scratch folder: a fresh folder under the OS temp dir, named by tag. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export const tmpDir = (tag: string) => mkdtempSync(join(os.tmpdir(), `mel-${tag}-`));
