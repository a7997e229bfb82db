/**
 * How a spawned learner process is started. Loading the learner's TypeScript through tsx costs
 * ~0.3 s of CPU per process (20 learners on 2 cores: ~3 s of every run's start-up), so the
 * orchestrator bundles src/cli/learner.ts once with esbuild (~10 ms) into plain JavaScript and
 * starts that. The bundle is named by its content hash and written atomically, so concurrent
 * orchestrators never see each other's half-written file. If bundling fails for any reason, the
 * learner is started through tsx as before.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string[] | undefined;

/** Node arguments that run the learner CLI (the CLI's own flags follow). */
export async function learnerEntryArgs(projectRoot: string): Promise<string[]> {
  if (cached) return cached;
  const source = join(projectRoot, 'src/cli/learner.ts');
  try {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [source],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external', // tfjs, ws, … load from node_modules as usual
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0].contents;
    // Inside node_modules so the bundle's bare imports resolve to this project's packages.
    const dir = join(projectRoot, 'node_modules', '.cache', 'mel-learner');
    const file = join(dir, `learner-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, file);
    }
    cached = [file];
  } catch {
    cached = ['--import', 'tsx', source];
  }
  return cached;
}
