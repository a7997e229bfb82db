/**
 * Global weights after each completed cycle, per scheme: a raw little-endian Float32 file plus
 * a manifest with its SHA-256, so --resume can continue exactly where a killed run stopped and
 * refuses a damaged checkpoint instead of training on garbage.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
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

export function saveCheckpoint(runDir: string, manifest: Omit<CheckpointManifest, 'sha256' | 'param_count'>, weights: Float32Array): void {
  const dir = checkpointDir(runDir, manifest.scheme);
  mkdirSync(dir, { recursive: true });
  const bytes = new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength);
  writeFileAtomic(join(dir, `${name(manifest.cycle)}.f32`), bytes);
  writeJsonAtomic(join(dir, `${name(manifest.cycle)}.json`), { ...manifest, param_count: weights.length, sha256: sha256(bytes) });
  const cycles = readdirSync(dir)
    .filter((f) => /^cycle-\d+\.json$/.test(f))
    .map((f) => Number(f.slice(6, 10)))
    .sort((a, b) => b - a);
  for (const old of cycles.slice(KEEP)) {
    rmSync(join(dir, `${name(old)}.f32`), { force: true });
    rmSync(join(dir, `${name(old)}.json`), { force: true });
  }
}

export function loadCheckpoint(runDir: string, scheme: string, cycle: number, paramCount: number): { weights: Float32Array; manifest: CheckpointManifest } {
  const dir = checkpointDir(runDir, scheme);
  const manifestPath = join(dir, `${name(cycle)}.json`);
  if (!existsSync(manifestPath)) throw new Error(`no checkpoint for ${scheme} cycle ${cycle} (expected ${manifestPath})`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as CheckpointManifest;
  const bytes = new Uint8Array(readFileSync(join(dir, `${name(cycle)}.f32`)));
  if (manifest.param_count !== paramCount || bytes.length !== paramCount * 4)
    throw new Error(`checkpoint ${scheme} cycle ${cycle} holds ${bytes.length / 4} weights, expected ${paramCount}`);
  if (sha256(bytes) !== manifest.sha256) throw new Error(`checkpoint ${scheme} cycle ${cycle} is damaged (SHA-256 mismatch)`);
  return { weights: new Float32Array(bytes.buffer, bytes.byteOffset, paramCount), manifest };
}
