/**
 * events.jsonl: a real run writes every event it reports as one JSON line with its time, each line
 * valid against docs/events.schema.json; a resumed session appends; the token never reaches the file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { eventLine } from '../../src/orchestrator/store/event-log.ts';
import type { RunEvent } from '../../src/orchestrator/events.ts';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import { EVENTS_FILE } from '../../src/run-folder/schema.ts';
import { collectLog, fastConfig, tmpDir } from '../reliability/helpers.ts';

const schema = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../docs/events.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true }).compile(schema);

/** Every event type, checked by the compiler: a new type must be added here, and so to the schema. */
const ALL_TYPES: Record<RunEvent['type'], true> = {
  joined: true,
  left: true,
  'heartbeat-missed': true,
  refused: true,
  'learner-error': true,
  'session-start': true,
  'session-end': true,
  listening: true,
  'lock-taken-over': true,
  extended: true,
  complete: true,
  waiting: true,
  'not-connected': true,
  resuming: true,
  'setup-done': true,
  'memory-tight': true,
  'tau-large': true,
  killed: true,
  'host-killed': true,
  respawned: true,
  'host-respawned': true,
  'nobody-allocated': true,
  'cycle-start': true,
  'learner-phase': true,
  'task-done': true,
  missing: true,
  diverged: true,
  'cycle-done': true,
  summary: true,
  unfaithful: true,
  claimed: true,
  'claim-ended': true,
  cleartext: true,
  'identical-allocations': true,
};

const readLines = (dir: string) =>
  readFileSync(join(dir, EVENTS_FILE), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));

describe('events.jsonl', () => {
  it('the schema knows every event type, and each type has its fields', () => {
    expect([...schema.properties.type.enum].sort()).toEqual(Object.keys(ALL_TYPES).sort());
    expect(
      validate({
        ts: '2026-12-02T05:00:00.000Z',
        type: 'cycle-start',
        scheme: 'eta',
        cycle: 1,
        cycles: 2,
        tau: 3,
        active: 4,
      }),
    ).toBe(true);
    // misuse: a missing field, an unknown type, a timestamp that is not ISO 8601 UTC
    expect(validate({ ts: '2026-12-02T05:00:00.000Z', type: 'cycle-start', scheme: 'eta', cycle: 1 })).toBe(false);
    expect(validate({ ts: '2026-12-02T05:00:00.000Z', type: 'no-such-event' })).toBe(false);
    expect(validate({ ts: 'yesterday', type: 'waiting', K: 2, url: 'ws://x' })).toBe(false);
  });

  it('a run writes each event as it reports it, one valid JSON line with ts; a resumed session appends', async () => {
    const out = tmpDir('events');
    const log = collectLog();
    const first = await runExperiment(fastConfig({ cycles: 1 }), { out, ...log.sinks, token: 'secret-token-123' });
    expect(first.interrupted).toBe(false);
    const lines = readLines(out);
    for (const line of lines) expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
    // the same events, in the same order, as the caller got them
    expect(lines.map((l) => l.type)).toEqual(log.events.map((e) => e.type));
    expect(lines[0]).toMatchObject({ type: 'session-start', resume: false, config: { K: 3, cycles: 1 } });
    expect(lines.at(-1)).toEqual({ ts: expect.any(String), type: 'session-end', status: 'finished' });
    const times = lines.map((l) => Date.parse(l.ts));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
    const types = new Set(lines.map((l) => l.type));
    for (const t of [
      'listening',
      'joined',
      'setup-done',
      'cycle-start',
      'learner-phase',
      'task-done',
      'cycle-done',
      'summary',
    ])
      expect(types).toContain(t);
    const done = lines.filter((l) => l.type === 'task-done');
    expect(done).toHaveLength(3);
    for (const d of done) {
      expect(d.t_total_s).toBeCloseTo(d.t_send_s + d.t_compute_s + d.t_return_s, 9);
      expect(d.bytes_sent).toBeGreaterThan(d.bytes_returned); // the task carries the batch too
    }
    expect(lines.filter((l) => l.type === 'learner-phase' && l.learner === 0).map((l) => l.phase)).toEqual([
      'receiving',
      'waiting',
      'computing',
      'returning',
    ]);
    expect(readFileSync(join(out, EVENTS_FILE), 'utf8')).not.toContain('secret-token-123');

    const again = await runExperiment(fastConfig({ cycles: 2 }), { out, resume: true, ...collectLog().sinks });
    expect(again.interrupted).toBe(false);
    const all = readLines(out);
    expect(all.slice(0, lines.length)).toEqual(lines);
    const sessions = all.filter((l) => l.type === 'session-start');
    expect(sessions.map((s) => s.resume)).toEqual([false, true]);
    expect(all.filter((l) => l.type === 'cycle-done').map((l) => l.cycle)).toEqual([1, 2]);
  });

  it('a line is the event with ts first; the token is left out', () => {
    const line = eventLine(
      { type: 'listening', url: 'ws://h:1', token: 't0k', out: '/o', reachable_urls: [], expected_fleet: null },
      new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
    );
    expect(line).toBe(
      '{"ts":"2026-01-02T03:04:05.006Z","type":"listening","url":"ws://h:1","out":"/o","reachable_urls":[],"expected_fleet":null}\n',
    );
  });

  it('a new run in a folder whose earlier attempt completed no cycle starts the file afresh', async () => {
    const out = tmpDir('events-fresh');
    writeFileSync(join(out, 'config.json'), JSON.stringify(fastConfig()));
    writeFileSync(
      join(out, EVENTS_FILE),
      '{"ts":"2026-01-01T00:00:00.000Z","type":"waiting","K":3,"url":"ws://old"}\n',
    );
    await runExperiment(fastConfig({ cycles: 1 }), { out, ...collectLog().sinks });
    expect(readLines(out)[0].type).toBe('session-start');
  });
});
