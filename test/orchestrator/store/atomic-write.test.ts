/**
 * writeFileAtomic and CsvAppender on a short write (the kernel wrote fewer bytes than asked) and
 * on a full disk: the file is whole or untouched, never truncated, the error names the file, and
 * no temp file stays behind.
 */
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InputError } from '../../../src/errors.ts';
import { CsvAppender, writeFileAtomic } from '../../../src/orchestrator/store/run-files.ts';
import { tmpDir } from '../../reliability/helpers.ts';

// writeSync that writes at most 7 bytes per call while `short` is on: what a busy pipe or a
// nearly full disk may do, and what a single writeSync call silently accepted before.
const io = vi.hoisted(() => ({ short: false }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((fd: number, buffer: any, offset?: any, length?: any, position?: any) => {
    if (!io.short || typeof buffer === 'string') return (fs.writeSync as any)(fd, buffer, offset, length, position);
    const off = offset ?? 0;
    const len = Math.min(length ?? buffer.length - off, 7);
    return fs.writeSync(fd, buffer, off, len, position);
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

afterEach(() => {
  io.short = false;
});

describe('writeFileAtomic', () => {
  it('completes a file written in short pieces', () => {
    const dir = tmpDir('short');
    const bytes = new Uint8Array(10_000).map((_, i) => i % 251);
    io.short = true;
    writeFileAtomic(join(dir, 'weights.f32'), bytes);
    writeFileAtomic(join(dir, 'config.json'), '{"K": 20, "T": 12, "note": "ünïcödé"}\n');
    io.short = false;
    expect(new Uint8Array(readFileSync(join(dir, 'weights.f32')))).toEqual(bytes);
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('{"K": 20, "T": 12, "note": "ünïcödé"}\n');
  });

  it('on a full disk names the file, keeps the old content and leaves no temp file', () => {
    const dir = tmpDir('enospc');
    const path = join(dir, 'summary.json');
    writeFileSync(path, 'old\n');
    // The temp name is known: make it lead to /dev/full, where every write fails with ENOSPC.
    symlinkSync('/dev/full', `${path}.tmp-${process.pid}`);
    let error: unknown;
    try {
      writeFileAtomic(path, 'new content\n');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(
      new RegExp(`^cannot write ${path}: no space left on the device \\(ENOSPC\\)`),
    );
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['summary.json']);
  });
});

describe('CsvAppender', () => {
  it('appends whole rows even when each write is short', () => {
    const dir = tmpDir('csv');
    const csv = new CsvAppender(join(dir, 'rows.csv'), ['a', 'b']);
    io.short = true;
    for (let i = 0; i < 20; i++) csv.add({ a: i, b: `row number ${i}` });
    csv.flush();
    io.short = false;
    const lines = readFileSync(join(dir, 'rows.csv'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[20]).toBe('19,row number 19');
    expect(existsSync(join(dir, `rows.csv.tmp-${process.pid}`))).toBe(false);
  });
});
