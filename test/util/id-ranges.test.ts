import { describe, expect, it } from 'vitest';
import { formatIdRanges, MAX_IDS, parseIdRanges } from '../../src/util/id-ranges.ts';
import { createRng } from '../../src/util/rng.ts';

describe('id ranges', () => {
  it('reads ids, ranges and lists of both, ascending and distinct', () => {
    expect(parseIdRanges('3')).toEqual([3]);
    expect(parseIdRanges('0-4')).toEqual([0, 1, 2, 3, 4]);
    expect(parseIdRanges('7, 0-2,2 , 5-5')).toEqual([0, 1, 2, 5, 7]);
    expect(parseIdRanges('1-9/3,20')).toEqual([1, 4, 7, 20]);
    expect(parseIdRanges('0-999/2')).toHaveLength(500);
  });

  it('refuses what is not an id or a range, naming the piece', () => {
    expect(() => parseIdRanges('')).toThrow(/"" is not an id/);
    expect(() => parseIdRanges('0-')).toThrow(/"0-" is not an id/);
    expect(() => parseIdRanges('a,1')).toThrow(/"a" is not an id/);
    expect(() => parseIdRanges('-1')).toThrow(/"-1"/);
    expect(() => parseIdRanges('5-2')).toThrow(/range "5-2" must run from a smaller/);
    expect(() => parseIdRanges(`0-${MAX_IDS}`)).toThrow(/more than/);
    expect(() => parseIdRanges('0-9/0')).toThrow(/step of at least 1/);
    expect(() => parseIdRanges('3/2')).toThrow(/"3\/2" is not an id/);
  });

  it('formats the shortest text that reads back as the same ids (random sets round-trip)', () => {
    expect(formatIdRanges([4, 0, 1, 2, 9, 2])).toBe('0-2,4,9');
    expect(formatIdRanges([1, 3, 5, 7])).toBe('1-7/2');
    expect(formatIdRanges([0, 5])).toBe('0,5');
    expect(formatIdRanges([])).toBe('');
    const rng = createRng(7);
    for (let trial = 0; trial < 200; trial++) {
      const ids = Array.from({ length: 1 + Math.floor(rng.next() * 30) }, () => Math.floor(rng.next() * 50));
      const text = formatIdRanges(ids);
      expect(parseIdRanges(text)).toEqual([...new Set(ids)].sort((a, b) => a - b));
      expect(text).not.toMatch(/(\d+)-\1\b/);
    }
  });
});
