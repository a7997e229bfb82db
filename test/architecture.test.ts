/**
 * Dependencies point downwards: every import of every file under src/ is checked against the
 * layering of docs/architecture.md. The pure core does not know who drives it; only the CLI knows the CLI.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Static imports and re-exports (also spread over several lines), side-effect imports and dynamic import(). */
function importSpecifiers(text: string): string[] {
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]));
}

/** The top-level folder under src/ a file belongs to ("model", "cli", …; "" for src/errors.ts). */
const layerOf = (file: string) => {
  const parts = relative(SRC, file).split('/');
  return parts.length > 1 ? parts[0] : '';
};

interface Edge {
  from: string; // src-relative file
  to: string; // src-relative file imported
  fromLayer: string;
  toLayer: string;
}

const edges: Edge[] = sourceFiles(SRC).flatMap((file) =>
  importSpecifiers(readFileSync(file, 'utf8'))
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => {
      const target = resolve(dirname(file), spec);
      return {
        from: relative(SRC, file),
        to: relative(SRC, target),
        fromLayer: layerOf(file),
        toLayer: relative(SRC, target).startsWith('..') ? '(outside src)' : layerOf(target),
      };
    }),
);

const violations = (fromLayers: string[] | ((l: string) => boolean), toLayers: string[]) => {
  const from = typeof fromLayers === 'function' ? fromLayers : (l: string) => fromLayers.includes(l);
  return edges.filter((e) => from(e.fromLayer) && toLayers.includes(e.toLayer)).map((e) => `${e.from} → ${e.to}`);
};

describe('architecture: imports point downwards', () => {
  it('finds the imports (the checker itself works)', () => {
    expect(
      importSpecifiers(
        "import a from './a.ts';\nimport {\n  b,\n  c,\n} from '../b.ts';\nexport { d } from './d.ts';\nimport './side.ts';\nconst e = await import('../e.ts');",
      ),
    ).toEqual(['./a.ts', '../b.ts', './d.ts', './side.ts', '../e.ts']);
    expect(edges.length).toBeGreaterThan(100);
    expect(edges.some((e) => e.from === 'cli/experiment.ts' && e.toLayer === 'orchestrator')).toBe(true);
  });

  it('the pure core (model, allocation, nn, data, protocol) imports nothing from orchestrator, learner, report, schemes or cli', () => {
    expect(
      violations(
        ['model', 'allocation', 'nn', 'data', 'protocol'],
        ['orchestrator', 'learner', 'report', 'schemes', 'cli'],
      ),
    ).toEqual([]);
  });

  it("the user schemes' edge (src/schemes: processes, modules) sits on the allocation core, below the orchestrator", () => {
    expect(edges.some((e) => e.from === 'orchestrator/experiment.ts' && e.toLayer === 'schemes')).toBe(true);
    expect(violations(['schemes'], ['orchestrator', 'learner', 'report', 'campaign', 'cli'])).toEqual([]);
  });

  it('nothing outside src/cli imports src/cli', () => {
    expect(violations((l) => l !== 'cli', ['cli'])).toEqual([]);
  });

  it('the run-folder schema sits below its writer and its readers; the orchestrator does not import the report', () => {
    expect(violations(['run-folder'], ['orchestrator', 'learner', 'report', 'cli'])).toEqual([]);
    expect(violations(['orchestrator', 'learner'], ['report'])).toEqual([]);
    expect(violations(['report'], ['orchestrator', 'learner', 'cli'])).toEqual([]);
  });

  it('the dashboard sits on the run events: only the CLI starts it; it reads events, never drives a run or renders a report', () => {
    expect(violations((l) => l !== 'cli' && l !== 'dashboard', ['dashboard'])).toEqual([]);
    expect(
      violations(
        ['dashboard'],
        ['cli', 'report', 'campaign', 'learner', 'model', 'allocation', 'nn', 'data', 'protocol', 'emulation'],
      ),
    ).toEqual([]);
    // from the orchestrator only the event types (type-only imports are erased: no run code is loaded)
    const fromOrchestrator = edges
      .filter((e) => e.fromLayer === 'dashboard' && e.toLayer === 'orchestrator')
      .map((e) => e.to);
    expect([...new Set(fromOrchestrator)]).toEqual(['orchestrator/events.ts']);
  });

  it("orchestrator's parts: transport, fleet and store sit below the run drivers; the transport knows neither fleet nor store", () => {
    const part = (file: string) => /^orchestrator\/(transport|fleet|store)\//.exec(file)?.[1];
    const drivers = [
      'orchestrator/experiment.ts',
      'orchestrator/session.ts',
      'orchestrator/learners-start.ts',
      'orchestrator/run-plan.ts',
      'orchestrator/run-summary.ts',
      'orchestrator/planner.ts',
      'orchestrator/world.ts',
    ];
    expect(edges.filter((e) => part(e.from) && drivers.includes(e.to)).map((e) => `${e.from} → ${e.to}`)).toEqual([]);
    expect(
      edges
        .filter((e) => part(e.from) === 'transport' && ['fleet', 'store'].includes(part(e.to) ?? ''))
        .map((e) => `${e.from} → ${e.to}`),
    ).toEqual([]);
    // the checker sees the parts
    for (const p of ['transport', 'fleet', 'store']) expect(edges.some((e) => part(e.from) === p)).toBe(true);
  });

  it('emulation sits below the orchestrator and the learner; the hub transport knows no emulated link', () => {
    expect(
      violations(['emulation'], ['orchestrator', 'learner', 'report', 'campaign', 'schemes', 'dashboard', 'cli']),
    ).toEqual([]);
    // Tasks are paced (emulation/link.ts) by the hub above its transport; the transport may read only the wall clock.
    const transport = [
      'orchestrator/transport/hub-transport.ts',
      'orchestrator/transport/learner-connection.ts',
      'orchestrator/transport/host-claims.ts',
      'orchestrator/transport/heartbeat.ts',
      'orchestrator/transport/listener.ts',
    ];
    expect(edges.some((e) => e.from === 'orchestrator/transport/hub.ts' && e.to === 'emulation/link.ts')).toBe(true);
    expect(
      edges
        .filter((e) => transport.includes(e.from) && e.toLayer === 'emulation' && e.to !== 'emulation/clock.ts')
        .map((e) => `${e.from} → ${e.to}`),
    ).toEqual([]);
  });

  it('nothing under src imports from outside src', () => {
    expect(edges.filter((e) => e.toLayer === '(outside src)').map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });
});
