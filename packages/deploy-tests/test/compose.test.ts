// docker-compose.yml checked by a real compose implementation: Docker Compose built from the Go
// module proxy (scripts/build-compose.sh), whose `config` parses, validates against the Compose
// Specification and interpolates the file without a Docker engine. The resolved model is then held
// to what the laptop setup promises.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { finalStages, parseDockerfile } from './support/dockerfile.ts';
import { ROOT } from './support/render.ts';
import { documentedVariables, isKnownVariable } from './support/services.ts';

interface ComposeService {
  readonly image?: string;
  readonly build?: { readonly context: string; readonly target?: string };
  readonly environment?: Readonly<Record<string, string | null>>;
  readonly healthcheck?: { readonly test?: readonly string[]; readonly disable?: boolean };
  readonly depends_on?: Readonly<Record<string, { readonly condition: string }>>;
  readonly deploy?: { readonly replicas?: number };
  readonly profiles?: readonly string[];
  readonly read_only?: boolean;
  readonly cap_drop?: readonly string[];
  readonly stop_grace_period?: string;
  readonly command?: readonly string[] | null;
  readonly volumes?: readonly {
    readonly type: string;
    readonly source?: string;
    readonly target: string;
  }[];
  readonly ports?: readonly { readonly host_ip?: string; readonly target: number }[];
}

interface ComposeModel {
  readonly services: Readonly<Record<string, ComposeService>>;
}

const CREDENTIALS = { DASHBOARD_USER: 'admin', DASHBOARD_PASSWORD: 'not-a-real-password' };
let compose = '';

function config(args: readonly string[], env: Readonly<Record<string, string>>) {
  return spawnSync(
    compose,
    [
      '--project-directory',
      ROOT,
      '-f',
      join(ROOT, 'docker-compose.yml'),
      ...args,
      'config',
      '--format',
      'json',
    ],
    {
      encoding: 'utf8',
      // Only what the test sets: no .env of a developer, no stray variables.
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
    },
  );
}

const seconds = (duration: string | undefined): number => {
  const match = /^(\d+)s$/.exec(duration ?? '');
  if (!match) throw new Error(`not a duration in seconds: ${String(duration)}`);
  return Number(match[1]);
};

describe('docker-compose.yml (docker compose config)', () => {
  let model: ComposeModel;
  let withFleet: ComposeModel;

  before(() => {
    // Cached after the first build (about 1-3 min cold).
    compose =
      execFileSync('bash', [join(ROOT, 'scripts', 'build-compose.sh')], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .pop() ?? '';
    const plain = config([], CREDENTIALS);
    assert.equal(plain.status, 0, plain.stderr);
    model = JSON.parse(plain.stdout) as ComposeModel;
    const fleet = config(['--profile', 'loadtest'], CREDENTIALS);
    assert.equal(fleet.status, 0, fleet.stderr);
    withFleet = JSON.parse(fleet.stdout) as ComposeModel;
  });

  const service = (m: ComposeModel, name: string): ComposeService => {
    const found = m.services[name];
    assert.ok(found !== undefined, `service ${name}`);
    return found;
  };

  it('is a valid Compose file with the laptop stack, and the fleet simulator only in its profile', () => {
    assert.match(
      execFileSync(compose, ['version'], { encoding: 'utf8' }),
      /Docker Compose version v\d/,
    );
    assert.deepEqual(Object.keys(model.services).sort(), [
      'dashboard',
      'jaeger',
      'k3s',
      'kube-setup',
      'redis',
      'watcher',
      'worker',
    ]);
    assert.deepEqual(service(withFleet, 'fleet').profiles, ['loadtest']);
    assert.deepEqual(service(withFleet, 'fleet').command?.slice(0, 2), [
      'node',
      'load-tests/src/main.ts',
    ]);
  });

  it('runs two watchers and three workers, built from the Dockerfile targets', () => {
    assert.equal(service(model, 'watcher').deploy?.replicas, 2);
    assert.equal(service(model, 'worker').deploy?.replicas, 3);
    const targets = finalStages(parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')));
    for (const name of ['watcher', 'worker', 'dashboard']) {
      const build = service(model, name).build;
      assert.equal(build?.context, ROOT);
      assert.ok(targets.includes(build.target ?? ''), `${name}: target ${String(build.target)}`);
      assert.equal(service(model, name).read_only, true);
      assert.deepEqual(service(model, name).cap_drop, ['ALL']);
    }
  });

  const hasHealthcheck = (s: ComposeService): boolean =>
    (s.healthcheck?.test?.length ?? 0) > 1 && s.healthcheck?.disable !== true;

  it('has a healthcheck on every long-running service but Jaeger, and a condition on every dependency', () => {
    const oneShot = ['jaeger', 'kube-setup', 'fleet'];
    for (const [name, s] of Object.entries(withFleet.services)) {
      assert.ok(oneShot.includes(name) || hasHealthcheck(s), `${name} healthcheck`);
      for (const [dependency, { condition }] of Object.entries(s.depends_on ?? {}))
        assert.match(
          condition,
          /^service_(healthy|completed_successfully|started)$/,
          `${name} → ${dependency}`,
        );
    }
    for (const name of ['watcher', 'worker']) {
      const depends = service(model, name).depends_on ?? {};
      assert.equal(depends['redis']?.condition, 'service_healthy');
      assert.equal(depends['kube-setup']?.condition, 'service_completed_successfully');
    }
    assert.equal(service(model, 'kube-setup').depends_on?.['k3s']?.condition, 'service_healthy');
  });

  it('gives each service only variables it documents, and each its own ServiceAccount kubeconfig', () => {
    for (const name of ['watcher', 'worker', 'dashboard']) {
      const documented = documentedVariables(ROOT, name);
      if (documented === undefined) continue; // services/dashboard is not there yet
      for (const variable of Object.keys(service(model, name).environment ?? {}))
        assert.ok(
          isKnownVariable(documented, variable),
          `${name}: ${variable} is not a documented variable`,
        );
    }
    assert.equal(
      service(model, 'watcher').environment?.['KUBECONFIG_PATH'],
      '/kube/watcher.kubeconfig',
    );
    assert.equal(
      service(model, 'worker').environment?.['KUBECONFIG_PATH'],
      '/kube/worker.kubeconfig',
    );
    const worker = service(model, 'worker');
    const deadline = Number(worker.environment?.['SHUTDOWN_DEADLINE_SECONDS']);
    assert.ok(
      seconds(worker.stop_grace_period) >= deadline + 5,
      'stop_grace_period covers the shutdown deadline',
    );
  });

  it('starts Redis with the shipped redis.conf, and mounts only files that exist', () => {
    const redis = service(model, 'redis');
    assert.match((redis.command ?? []).join(' '), /redis-server \/etc\/redis\/redis\.conf .*-$/);
    for (const s of Object.values(withFleet.services))
      for (const volume of s.volumes ?? [])
        if (volume.type === 'bind')
          assert.ok(existsSync(volume.source ?? ''), `${volume.source ?? ''} exists`);
    const setup = spawnSync('sh', ['-n', join(ROOT, 'deploy/compose/kube-setup.sh')], {
      encoding: 'utf8',
    });
    assert.equal(setup.status, 0, setup.stderr);
  });

  it('publishes ports on loopback only', () => {
    for (const [name, s] of Object.entries(model.services))
      for (const port of s.ports ?? [])
        assert.equal(port.host_ip, '127.0.0.1', `${name}:${port.target}`);
  });

  it('refuses to run the dashboard without credentials from the environment', () => {
    const without = config([], {});
    assert.notEqual(without.status, 0);
    assert.match(without.stderr, /required variable DASHBOARD_USER is missing/);
    assert.match(without.stderr, /required variable DASHBOARD_PASSWORD is missing/);
    assert.equal(
      service(model, 'dashboard').environment?.['DASHBOARD_PASSWORD'],
      CREDENTIALS.DASHBOARD_PASSWORD,
    );
  });
});
