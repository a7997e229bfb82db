/**
 * Learner id lists as people write them: "0-499", "3", "0-9,20,30-39", and every S-th id of a
 * range as in cron, "1-999/2". A host's command line names hundreds of learners in a few characters.
 */

/** More ids than any run has learners: a typo like 0-4999999 fails fast instead of filling memory. */
export const MAX_IDS = 100_000;

/** The ids of `text`, ascending and distinct; a RangeError names the first piece that is not an id or a range. */
export function parseIdRanges(text: string): number[] {
  const ids = new Set<number>();
  for (const piece of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*(?:\/\s*(\d+)\s*)?)?$/.exec(piece);
    if (!m) throw new RangeError(`"${piece.trim()}" is not an id or a range like 0-499 or 1-999/2`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    // Past 2^53 a double has no exact integer to hold the id: say so, not "from smaller to larger".
    for (const n of [from, to])
      if (!Number.isSafeInteger(n))
        throw new RangeError(`"${piece.trim()}": ${n === from ? m[1] : m[2]} is too large for an id`);
    if (to < from) throw new RangeError(`range "${piece.trim()}" must run from a smaller id to a larger one`);
    if (!Number.isSafeInteger(step) || step < 1)
      throw new RangeError(`range "${piece.trim()}" needs a step of at least 1`);
    if (ids.size + Math.floor((to - from) / step) + 1 > MAX_IDS)
      throw new RangeError(`"${text}" names more than ${MAX_IDS} ids`);
    for (let id = from; id <= to; id += step) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

/** The shortest text parseIdRanges reads back as `ids` (any order, duplicates ignored). */
export function formatIdRanges(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  // Every S-th id (a host's share of K learners dealt round-robin): one stepped range.
  const step = sorted.length >= 3 ? sorted[1] - sorted[0] : 1;
  if (step > 1 && sorted.every((id, i) => id === sorted[0] + i * step)) return `${sorted[0]}-${sorted.at(-1)}/${step}`;
  const pieces: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    pieces.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return pieces.join(',');
}
