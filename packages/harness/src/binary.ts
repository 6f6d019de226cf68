// Finds the multi-call control-plane binary (go/controlplane): $STAMPEDE_CONTROLPLANE_BIN, else
// whatever scripts/build-controlplane.sh prints last (instant when cached, minutes when cold; its
// progress goes straight to our stderr).
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './manifests.ts';
import type { Logger } from './util.ts';

let cached: Promise<string> | undefined;

export function resolveControlPlaneBinary(log: Logger): Promise<string> {
  const fromEnv = process.env['STAMPEDE_CONTROLPLANE_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') {
    accessSync(fromEnv, constants.X_OK);
    return Promise.resolve(fromEnv);
  }
  cached ??= build(log);
  return cached;
}

function build(log: Logger): Promise<string> {
  const script = join(repoRoot(), 'scripts', 'build-controlplane.sh');
  log(`control plane binary: ${script} (a cold build takes minutes; progress follows)`);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', code => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('/')) {
        cached = undefined;
        reject(new Error(`${script} failed (exit ${String(code)}): ${out.trim()}`));
        return;
      }
      resolve(last);
    });
  });
}
