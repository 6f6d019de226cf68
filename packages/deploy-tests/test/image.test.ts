// Image content without a Docker engine: the Dockerfile's steps for each service target are replayed
// (build context filtered by .dockerignore, `turbo prune --docker`, `npm ci --omit=dev` in the pruned
// tree, deploy/docker/prod-tree.ts, the copies into the runtime stage), then the service is started
// from the resulting tree: `--help` (every module resolves), and a real start against a control
// plane and Redis until /readyz answers and the image's HEALTHCHECK command passes. A file or a
// dependency the Dockerfile forgets fails here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
} from 'node:fs';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startControlPlane, startRedis } from '@stampede/harness';
import type { ControlPlane, RedisServer } from '@stampede/harness';
import {
  copyContext,
  finalStages,
  hostPath,
  parseDockerfile,
  replay,
} from './support/dockerfile.ts';
import type { StageResult } from './support/dockerfile.ts';
import { ROOT } from './support/render.ts';
import { startService, waitReady } from './support/services.ts';

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const targets = finalStages(dockerfile);
/** Packages that are build or test tooling and never belong in an image. */
const DEV_ONLY = [
  '@stampede/harness',
  '@stampede/testing',
  '@stampede/deploy-tests',
  'typescript',
  'eslint',
  'prettier',
  'turbo',
  'fast-check',
  'typescript-eslint',
]; // (@types/node stays: @kubernetes/client-node lists it as a dependency)

/** The command line of the image: the distroless entrypoint (node) and CMD. */
function imageCommand(image: StageResult): { args: string[]; cwd: string } {
  const cmd = image.cmd ?? [];
  return {
    args: cmd.map(arg => (arg.endsWith('.ts') ? hostPath(image, arg) : arg)),
    cwd: hostPath(image, image.workdir),
  };
}

/** Every file below `dir`, relative, not following symlinks. */
function files(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...files(dir, path));
    else out.push(path);
  }
  return out;
}

describe('container images (Dockerfile replayed without Docker)', () => {
  let workspace: string;
  let context: string;
  let cp: ControlPlane;
  let redis: RedisServer;

  before(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'stampede-image-'));
    context = join(workspace, 'context');
    copyContext(ROOT, context);
    [cp, redis] = await Promise.all([startControlPlane({ canary: false }), startRedis()]);
  });

  after(async () => {
    await Promise.all([redis.stop(), cp.stop()]);
    rmSync(workspace, { recursive: true, force: true });
  });

  it('has a target for the watcher, the worker and the dashboard, on distroless Node 24 as non-root', () => {
    assert.deepEqual(targets.sort(), ['dashboard', 'watcher', 'worker']);
    const runtime = dockerfile.globalArgs.get('RUNTIME_IMAGE') ?? '';
    assert.match(runtime, /^gcr\.io\/distroless\/nodejs24-debian12:nonroot$/);
    assert.match(
      dockerfile.globalArgs.get('BUILD_IMAGE') ?? '',
      /^node:24\.\d+\.\d+-bookworm-slim$/,
    );
    const turbo = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        devDependencies: Record<string, string>;
      }
    ).devDependencies['turbo'];
    assert.equal(
      dockerfile.globalArgs.get('TURBO_VERSION'),
      turbo,
      'the Dockerfile prunes with the repository’s turbo',
    );
  });

  it('leaves the context without node_modules, .git or the Go build', () => {
    for (const path of ['node_modules', '.git', 'go', 'packages/policy/node_modules'])
      assert.equal(existsSync(join(context, path)), false, path);
    assert.ok(existsSync(join(context, 'deploy/docker/prod-tree.ts')));
    assert.ok(existsSync(join(context, 'package-lock.json')));
  });

  for (const target of targets) {
    const service = target;
    it(`builds the ${service} image with production dependencies only, and starts it`, async t => {
      if (!existsSync(join(ROOT, 'services', service, 'package.json'))) {
        t.skip(`services/${service} does not exist yet`);
        return;
      }
      const image = replay(dockerfile, target, { context, workspace: join(workspace, 'stages') });
      assert.equal(image.user, '65532:65532');
      const app = hostPath(image, image.workdir);

      // Content: the service's workspaces as symlinks into the tree, no dev packages, no tests.
      const scope = join(app, 'node_modules', '@stampede');
      for (const name of readdirSync(scope)) {
        const link = join(scope, name);
        assert.ok(lstatSync(link).isSymbolicLink(), `${name} is a symlink`);
        const real = realpathSync(link);
        assert.ok(real.startsWith(app + sep) && !real.split(sep).includes('node_modules'), real);
      }
      for (const name of DEV_ONLY)
        assert.equal(
          existsSync(join(app, 'node_modules', name)),
          false,
          `${name} is not in the image`,
        );
      const own = files(app).filter(f => !f.startsWith('node_modules/'));
      assert.deepEqual(
        own.filter(f => /\.test\.ts$|\/test\/|tsconfig/.test(f)),
        [],
      );
      assert.ok(own.includes(`services/${service}/src/main.ts`));
      assert.ok(own.includes('healthcheck.ts'));

      // --help: imports every module of the service from the tree.
      const { args, cwd } = imageCommand(image);
      const env = { PATH: process.env['PATH'] ?? '', ...Object.fromEntries(image.env) };
      const help = spawnSync(process.execPath, [...args, '--help'], { cwd, env, encoding: 'utf8' });
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, new RegExp(`stampede-${service}`));

      // A real start against Redis (and the API server), then the image's HEALTHCHECK passes.
      const port = String(await freePort());
      const runtimeEnv = { ...Object.fromEntries(image.env), REDIS_URL: redis.url };
      const running =
        service === 'dashboard'
          ? // On loopback it may run without credentials; the HEALTHCHECK follows DASHBOARD_PORT.
            startService(app, service, {
              ...runtimeEnv,
              DASHBOARD_HOST: '127.0.0.1',
              DASHBOARD_PORT: port,
            })
          : startService(app, service as 'watcher' | 'worker', {
              ...runtimeEnv,
              KUBECONFIG_PATH: await cp.serviceKubeconfig(service as 'watcher' | 'worker'),
              HEALTH_PORT: port,
              HEALTH_HOST: '127.0.0.1',
            });
      try {
        if (service !== 'dashboard') await waitReady(running);
        // The distroless node binary is this node; a path into the image maps to the tree.
        const probe = (image.healthcheck ?? []).map(arg =>
          arg === '/nodejs/bin/node'
            ? process.execPath
            : arg.startsWith(`${image.workdir}/`)
              ? hostPath(image, arg)
              : arg,
        );
        assert.ok(probe.length > 1, 'the image has a HEALTHCHECK');
        const healthcheck = () =>
          spawnSync(probe[0] ?? '', probe.slice(1), {
            env: { ...env, HEALTH_PORT: port, DASHBOARD_PORT: port },
            encoding: 'utf8',
          });
        let check = healthcheck();
        for (let i = 0; i < 100 && check.status !== 0 && running.child.exitCode === null; i++) {
          await sleep(200);
          check = healthcheck();
        }
        assert.equal(
          check.status,
          0,
          `HEALTHCHECK ${probe.join(' ')}: ${check.stderr}\n${running.output()}`,
        );
      } finally {
        assert.equal(await running.stop(), 0, running.output());
      }
    });
  }
});
