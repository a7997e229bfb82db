/**
 * Functions short enough to read at once: no function in src/ is longer than 80 lines (as formatted by
 * `npm run lint`). Lengths are measured from the TypeScript syntax tree: first to last line of the
 * function node. And no tracked file keeps the markers of a merge conflict.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const MAX_LINES = 80;
/** A line that opens or closes a conflict: seven < or > at its start (a ======= line alone is Markdown). */
const CONFLICT_MARKER = /^(<{7}|>{7})( |$)/m;

/** Where code, docs and settings live: the repository's own folders and its top-level files. */
const OWN_FOLDERS = ['src', 'test', 'docs', 'bench', 'experiments', 'examples', 'deploy', '.ci'];

function ownFiles(): string[] {
  const top = readdirSync(ROOT, { withFileTypes: true }).filter((e) => e.isFile());
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
    );
  return [
    ...top.map((e) => join(ROOT, e.name)),
    ...OWN_FOLDERS.filter((d) => existsSync(join(ROOT, d))).flatMap((d) => walk(join(ROOT, d))),
  ];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function nameOf(node: ts.Node): string {
  const named = (node as { name?: ts.Node }).name;
  if (named) return named.getText();
  if (ts.isVariableDeclaration(node.parent) || ts.isPropertyAssignment(node.parent)) return node.parent.name.getText();
  return '(anonymous)';
}

/** Every function longer than `limit` lines: "file.ts name" → its length. */
function longFunctions(limit: number): Map<string, number> {
  const found = new Map<string, number>();
  for (const file of sourceFiles(SRC)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body) {
        const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
        const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const key = `${relative(SRC, file)} ${nameOf(node)}`;
        if (last - first + 1 > limit) found.set(key, Math.max(found.get(key) ?? 0, last - first + 1));
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe('code health', () => {
  it(`no function in src/ is longer than ${MAX_LINES} lines`, () => {
    const over = [...longFunctions(MAX_LINES)];
    expect(over.map(([key, lines]) => `${key}: ${lines} lines`)).toEqual([]);
  });

  it('the measure sees long functions (the checker itself works)', () => {
    expect(longFunctions(40).size).toBeGreaterThan(0);
  });

  it('no tracked file holds merge-conflict markers', () => {
    const marked = ownFiles().filter((file) => CONFLICT_MARKER.test(readFileSync(file, 'latin1')));
    expect(marked.map((file) => relative(ROOT, file))).toEqual([]);
  });

  it('the marker check sees a conflict (the checker itself works)', () => {
    expect(CONFLICT_MARKER.test(`a\n${'<'.repeat(7)} HEAD\nb\n${'='.repeat(7)}\nc\n${'>'.repeat(7)} x\n`)).toBe(true);
  });
});
