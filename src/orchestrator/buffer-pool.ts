/**
 * Per-learner buffers reused from cycle to cycle. A fresh multi-megabyte allocation faults in every
 * page on first touch, for every task of every cycle; a buffer reused each cycle does not. A buffer is lent until released: a frame still being written to a
 * slow socket is never overwritten (the next lease gets a new buffer instead).
 */
export interface Lease {
  buffer: Buffer;
  release(): void;
}

export class BufferPool {
  private readonly free = new Map<string, Buffer>();

  /** A buffer of at least `bytes` for `key`: the one released last under that key when it is large enough. */
  lease(key: string, bytes: number): Lease {
    const kept = this.free.get(key);
    this.free.delete(key);
    const buffer = kept && kept.length >= bytes ? kept : Buffer.allocUnsafe(bytes);
    let released = false;
    return {
      buffer,
      release: () => {
        if (released) return;
        released = true;
        const current = this.free.get(key);
        if (!current || current.length < buffer.length) this.free.set(key, buffer);
      },
    };
  }
}
