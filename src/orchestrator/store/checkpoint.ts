/**
 * Global weights after each completed cycle, per scheme: a raw little-endian Float32 file plus
 * a manifest with its SHA-256, so --resume can continue exactly where a killed run stopped and
 * refuses a damaged checkpoint instead of training on garbage.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.ts';
import { writeFileAtomic, writeJsonAtomic } from './run-files.ts';

export interface CheckpointManifest {
  scheme: string;
  cycle: number;
  param_count: number;
  sha256: string;
  emulated_time_s: number;
  wall_time_s: number;
}

const KEEP = 2; // the newest two, so a crash between checkpoint and CSV row still leaves the one we need

const name = (cycle: number) => `cycle-${String(cycle).padStart(4, '0')}`;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function checkpointDir(runDir: string, scheme: string): string {
  return join(runDir, 'checkpoints', scheme);
}

export function saveCheckpoint(
  runDir: string,
  manifest: Omit<CheckpointManifest, 'sha256' | 'param_count'>,
  weights: Float32Array,
): void {
  const dir = checkpointDir(runDir, manifest.scheme);
  mkdirSync(dir, { recursive: true });
  const bytes = new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength);
  writeFileAtomic(join(dir, `${name(manifest.cycle)}.f32`), bytes);
  writeJsonAtomic(join(dir, `${name(manifest.cycle)}.json`), {
    ...manifest,
    param_count: weights.length,
    sha256: sha256(bytes),
  });
  const cycles = readdirSync(dir)
    .filter((f) => /^cycle-\d+\.json$/.test(f))
    .map((f) => Number(f.slice(6, 10)))
    .sort((a, b) => b - a);
  for (const old of cycles.slice(KEEP)) {
    rmSync(join(dir, `${name(old)}.f32`), { force: true });
    rmSync(join(dir, `${name(old)}.json`), { force: true });
  }
}

/**
 * The weights after `cycle`, verified. A missing, unreadable or damaged checkpoint is an InputError
 * with one line naming the file: --resume cannot continue from it, and says so.
 */
export function loadCheckpoint(
  runDir: string,
  scheme: string,
  cycle: number,
  paramCount: number,
): { weights: Float32Array; manifest: CheckpointManifest } {
  const dir = checkpointDir(runDir, scheme);
  const manifestPath = join(dir, `${name(cycle)}.json`);
  const weightsPath = join(dir, `${name(cycle)}.f32`);
  const what = `checkpoint of ${scheme} cycle ${cycle}`;
  if (!existsSync(manifestPath))
    throw new InputError(`${what} is missing (expected ${manifestPath}); the run cannot be resumed from it`);
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw new InputError(`${what} is damaged: ${manifestPath} is not valid JSON (${(e as Error).message})`);
  }
  if (
    typeof manifest !== 'object' ||
    manifest === null ||
    manifest.cycle !== cycle ||
    manifest.scheme !== scheme ||
    typeof manifest.sha256 !== 'string' ||
    !Number.isInteger(manifest.param_count) ||
    typeof manifest.emulated_time_s !== 'number' ||
    typeof manifest.wall_time_s !== 'number'
  )
    throw new InputError(`${what} is damaged: ${manifestPath} lacks scheme, cycle, param_count, sha256 or times`);
  if (!existsSync(weightsPath)) throw new InputError(`${what} is damaged: its weights file ${weightsPath} is missing`);
  if (manifest.param_count !== paramCount)
    throw new InputError(
      `${what} is damaged: ${manifestPath} says ${manifest.param_count} weights, the model has ${paramCount}`,
    );
  const bytes = new Uint8Array(readFileSync(weightsPath));
  if (bytes.length !== paramCount * 4)
    throw new InputError(
      `${what} is damaged: ${weightsPath} holds ${bytes.length} bytes, expected ${paramCount * 4} (${paramCount} float32 weights)`,
    );
  if (sha256(bytes) !== manifest.sha256)
    throw new InputError(`${what} is damaged: ${weightsPath} does not match its SHA-256`);
  const weights = new Float32Array(bytes.buffer, bytes.byteOffset, paramCount);
  // A run never saves a diverged model (it keeps the last finite one): non-finite weights were put there.
  const bad = weights.findIndex((w) => !Number.isFinite(w));
  if (bad >= 0)
    throw new InputError(
      `${what} is damaged: ${weightsPath} holds a non-finite weight (${weights[bad]} at index ${bad})`,
    );
  return { weights, manifest };
}
