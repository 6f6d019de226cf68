// Finds the Go programs the harness runs, built from the small modules under go/ and cached
// outside the checkout: the environment variable when set, else whatever scripts/build-<name>.sh
// prints last (instant when cached, minutes when cold; its progress goes straight to our stderr).
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './manifests.ts';
import type { Logger } from './util.ts';

interface GoProgram {
  /** scripts/build-<name>.sh builds it. */
  readonly name: 'controlplane' | 'helm' | 'jaeger' | 'kubelet' | 'promtool' | 'prometheus';
  /** Overrides the build with a binary of the caller's. */
  readonly envVar: string;
}

const CONTROL_PLANE: GoProgram = { name: 'controlplane', envVar: 'STAMPEDE_CONTROLPLANE_BIN' };
const JAEGER: GoProgram = { name: 'jaeger', envVar: 'STAMPEDE_JAEGER_BIN' };
const KUBELET: GoProgram = { name: 'kubelet', envVar: 'STAMPEDE_KUBELET_BIN' };
const PROMTOOL: GoProgram = { name: 'promtool', envVar: 'STAMPEDE_PROMTOOL_BIN' };
const PROMETHEUS: GoProgram = { name: 'prometheus', envVar: 'STAMPEDE_PROMETHEUS_BIN' };
const HELM: GoProgram = { name: 'helm', envVar: 'STAMPEDE_HELM_BIN' };

const builds = new Map<string, Promise<string>>();

function resolve(program: GoProgram, log: Logger, cachedOnly: boolean): Promise<string> {
  const fromEnv = process.env[program.envVar];
  if (fromEnv !== undefined && fromEnv !== '') {
    accessSync(fromEnv, constants.X_OK);
    return Promise.resolve(fromEnv);
  }
  const key = `${program.name}:${String(cachedOnly)}`;
  let build = builds.get(key);
  if (build === undefined) {
    build = runBuild(program, log, cachedOnly);
    builds.set(key, build);
    // A failed build may succeed later (the module proxy was down); don't keep the failure.
    build.catch(() => builds.delete(key));
  }
  return build;
}

export function resolveControlPlaneBinary(log: Logger): Promise<string> {
  return resolve(CONTROL_PLANE, log, false);
}

/** The test kubelet (go/kubelet: a real kubelet with a fake CRI). */
export function resolveKubeletBinary(log: Logger): Promise<string> {
  return resolve(KUBELET, log, false);
}

/** promtool (go/promtool), for the alert-rule and dashboard tests. */
export function resolvePromtoolBinary(log: Logger): Promise<string> {
  return resolve(PROMTOOL, log, false);
}

/** Helm (go/helm), for the chart tests (lint, template). */
export function resolveHelmBinary(log: Logger): Promise<string> {
  return resolve(HELM, log, false);
}

/** The Prometheus server (go/promtool's other tool), for the end-to-end scrape of the services. */
export function resolvePrometheusBinary(log: Logger): Promise<string> {
  return resolve(PROMETHEUS, log, false);
}

/** Jaeger; with `cachedOnly`, undefined unless it is already built (no minutes-long build). */
export function resolveJaegerBinary(log: Logger): Promise<string>;
export function resolveJaegerBinary(log: Logger, cachedOnly: true): Promise<string | undefined>;
export async function resolveJaegerBinary(
  log: Logger,
  cachedOnly = false,
): Promise<string | undefined> {
  if (!cachedOnly) return resolve(JAEGER, log, false);
  try {
    return await resolve(JAEGER, log, true);
  } catch {
    return undefined;
  }
}

function runBuild(program: GoProgram, log: Logger, cachedOnly: boolean): Promise<string> {
  const script = join(repoRoot(), 'scripts', `build-${program.name}.sh`);
  if (!cachedOnly)
    log(`${program.name} binary: ${script} (a cold build takes minutes; progress follows)`);
  const env = cachedOnly ? { ...process.env, STAMPEDE_CACHED_ONLY: '1' } : process.env;
  return new Promise((done, reject) => {
    const child = spawn('bash', [script], {
      env,
      stdio: ['ignore', 'pipe', cachedOnly ? 'ignore' : 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', code => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('/')) {
        reject(new Error(`${script} failed (exit ${String(code)}): ${out.trim()}`));
        return;
      }
      done(last);
    });
  });
}
