/** `--dashboard [PORT]`: a flag whose value may be left out (FlagSpec.implicit). */
import { describe, expect, it } from 'vitest';
import { helpText, parseArgs, UsageError } from '../../src/cli/args.ts';
import { spec } from '../../src/cli/experiment.ts';

describe('--dashboard [PORT]', () => {
  it('takes a port, or 0 (any free port) when given alone, before another flag or at the end', () => {
    expect(parseArgs(['--dashboard', '8080'], spec).dashboard).toBe(8080);
    expect(parseArgs(['--dashboard'], spec).dashboard).toBe(0);
    const before = parseArgs(['--dashboard', '--K', '3'], spec);
    expect([before.dashboard, before.K]).toEqual([0, 3]);
    expect(parseArgs(['--dashboard=0'], spec).dashboard).toBe(0);
    expect(parseArgs([], spec).dashboard).toBeUndefined();
    expect(parseArgs([], spec).dashboardHost).toBe('127.0.0.1');
  });

  it('refuses a port out of range or not a number, naming the flag', () => {
    expect(() => parseArgs(['--dashboard', '70000'], spec)).toThrow(UsageError);
    expect(() => parseArgs(['--dashboard', 'x'], spec)).toThrow('--dashboard must be a number');
    // a flag that needs its value still needs it
    expect(() => parseArgs(['--K'], spec)).toThrow('--K needs a value');
  });

  it('--help shows the value as optional and what the flag alone means', () => {
    expect(helpText(spec)).toMatch(/--dashboard \[<int>\] .*alone: 0\]/);
  });
});
