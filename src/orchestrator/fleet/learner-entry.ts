/**
 * How a spawned learner process is started. Loading the learner's TypeScript through tsx costs
 * every process a transpile at start-up, paid again for each host of every run, so the
 * orchestrator bundles src/cli/learner.ts once with esbuild into plain JavaScript and starts that. Code splitting keeps each engine in its own chunk, loaded only when chosen: a learner
 * on the onnx engine never loads tfjs. The bundle folder is named by its content hash and moved
 * into place whole, so concurrent orchestrators never see each other's half-written files. If
 * bundling fails for any reason, the learner is started through tsx.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

let cached: string[] | undefined;

/** Node arguments that run the learner CLI (the CLI's own flags follow). */
export async function learnerEntryArgs(projectRoot: string): Promise<string[]> {
  if (cached) return cached;
  const source = join(projectRoot, 'src/cli/learner.ts');
  // Inside node_modules so the bundle's bare imports resolve to this project's packages.
  const cache = join(projectRoot, 'node_modules', '.cache', 'mel-learner');
  try {
    const { build } = await import('esbuild');
    const outdir = join(cache, 'build');
    const result = await build({
      entryPoints: { learner: source },
      bundle: true,
      splitting: true,
      outdir,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external', // onnxruntime, tfjs, ws, … load from node_modules as usual
      write: false,
      logLevel: 'silent',
    });
    const hash = createHash('sha256');
    for (const f of result.outputFiles) hash.update(relative(outdir, f.path)).update(f.contents);
    const dir = join(cache, `learner-${hash.digest('hex').slice(0, 16)}`);
    if (!existsSync(dir)) {
      const tmp = `${dir}.${process.pid}.tmp`;
      for (const f of result.outputFiles) {
        const file = join(tmp, relative(outdir, f.path));
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, f.contents);
      }
      try {
        renameSync(tmp, dir);
      } catch (e) {
        // Another orchestrator moved the same bundle into place first.
        rmSync(tmp, { recursive: true, force: true });
        if (!existsSync(dir)) throw e;
      }
    }
    cached = [join(dir, 'learner.js')];
  } catch {
    cached = ['--import', 'tsx', source];
  }
  return cached;
}
