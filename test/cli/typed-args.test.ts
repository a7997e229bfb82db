/**
 * Parsed flags are typed from the one settings table: each value's type follows the setting's declared
 * type (an enum: its choices; a list: string[]), a setting with a default is always there, and a name
 * no command declares does not type-check. `npm test` runs tsc over this file, so the type assertions
 * below fail the build when the typing breaks; the runtime assertions check the values themselves.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineCommand, parseArgs } from '../../src/cli/args.ts';
import { spec as experiment } from '../../src/cli/experiment.ts';
import { spec as sweep } from '../../src/cli/sweep.ts';
import { flagsFor } from '../../src/cli/settings.ts';

describe('parsed flags are typed from the settings table', () => {
  it('experiment: numbers, enums as their choices, lists, and absent values where there is no default', () => {
    const args = parseArgs(['--K', '5', '--clock', 'real', '--schemes', 'optimal,eta'], experiment);
    expectTypeOf(args.K).toEqualTypeOf<number>();
    expectTypeOf(args.trainSamples).toEqualTypeOf<number>();
    expectTypeOf(args.clock).toEqualTypeOf<'virtual' | 'real'>();
    expectTypeOf(args.schemes).toEqualTypeOf<string[]>();
    expectTypeOf(args.report).toEqualTypeOf<boolean>();
    expectTypeOf(args.out).toEqualTypeOf<string | undefined>();
    expectTypeOf(args.tauMax).toEqualTypeOf<number | undefined>();
    // @ts-expect-error: no setting of experiment is called so
    expect(args.noSuchFlag).toBeUndefined();
    expect([args.K, args.clock, args.schemes, args.out]).toEqual([5, 'real', ['optimal', 'eta'], undefined]);
    expect(typeof args.trainSamples).toBe('number');
  });

  it("a command's own use of a setting changes its type (sweep's K is a grid, a list)", () => {
    const args = parseArgs(['--K', '10,20'], sweep);
    expectTypeOf(args.K).toEqualTypeOf<string[]>();
    expect(args.K).toEqual(['10', '20']);
  });

  it("defaults only a command knows make its value always there (flagsFor's defaults)", () => {
    const withDefault = defineCommand({ command: 't', summary: 't', flags: flagsFor('fig1', { 't-for-k': ['30'] }) });
    const without = defineCommand({ command: 't', summary: 't', flags: flagsFor('fig1') });
    expectTypeOf(parseArgs([], withDefault).tForK).toEqualTypeOf<string[]>();
    expectTypeOf(parseArgs([], without).tForK).toEqualTypeOf<string[] | undefined>();
    expect(parseArgs([], withDefault).tForK).toEqual(['30']);
    expect(parseArgs([], without).tForK).toBeUndefined();
  });

  it('flags declared in place (bench scripts, the dashboard) are typed the same way', () => {
    const spec = defineCommand({
      command: 't',
      summary: 't',
      flags: [
        { name: 'reps', type: 'int', default: 3, help: 'repetitions' },
        { name: 'mode', type: 'enum', choices: ['a', 'b'], help: 'mode' },
      ],
    });
    const args = parseArgs(['--mode', 'b'], spec);
    expectTypeOf(args.reps).toEqualTypeOf<number>();
    expectTypeOf(args.mode).toEqualTypeOf<'a' | 'b' | undefined>();
    expect([args.reps, args.mode]).toEqual([3, 'b']);
  });
});
