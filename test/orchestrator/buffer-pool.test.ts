import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/orchestrator/buffer-pool.ts';

describe('BufferPool', () => {
  it('hands back the released buffer for the same key while it is large enough', () => {
    const pool = new BufferPool();
    const a = pool.lease('k', 100);
    a.release();
    const b = pool.lease('k', 80);
    expect(b.buffer).toBe(a.buffer);
    b.release();
    const c = pool.lease('k', 200);
    expect(c.buffer).not.toBe(a.buffer);
    expect(c.buffer.length).toBeGreaterThanOrEqual(200);
  });

  it('never lends a buffer that is still out (a frame still being written): a second lease gets a new one', () => {
    const pool = new BufferPool();
    const a = pool.lease('k', 100);
    const b = pool.lease('k', 100);
    expect(b.buffer).not.toBe(a.buffer);
    a.release();
    a.release(); // twice is harmless
    expect(pool.lease('other', 100).buffer).not.toBe(a.buffer);
  });
});
