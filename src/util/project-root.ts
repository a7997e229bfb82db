/** The repository's root folder (this file is src/util/project-root.ts): default folders and child scripts live there. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
