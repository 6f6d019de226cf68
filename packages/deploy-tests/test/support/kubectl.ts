// kubectl against the harness control plane, as an operator runs it.
import { spawn } from 'node:child_process';

export interface KubectlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs kubectl with `--kubeconfig`, feeding `input` on stdin; never throws on a non-zero exit. */
export function kubectl(
  kubeconfig: string,
  args: readonly string[],
  input?: string,
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', code => {
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** `kubectl auth can-i` as a user: true for "yes" (exit 0), false for "no" (exit 1). */
export interface Identity {
  readonly user: string;
  readonly groups?: readonly string[];
}

/**
 * `kubectl auth can-i <question…> --as <user> [--as-group …]`: true for "yes" (exit 0), false for
 * "no" (exit 1). `question` as kubectl takes it, e.g. `['update', 'certificatesigningrequests',
 * '--subresource=approval']` or `['create', 'events.events.k8s.io', '-n', 'default']`.
 */
export async function canI(
  kubeconfig: string,
  who: Identity,
  question: readonly string[],
): Promise<boolean> {
  const args = ['auth', 'can-i', ...question, `--as=${who.user}`];
  for (const group of who.groups ?? []) args.push(`--as-group=${group}`);
  const result = await kubectl(kubeconfig, args);
  if (result.code === 0 && result.stdout.trim() === 'yes') return true;
  if (result.code === 1 && result.stdout.trim().startsWith('no')) return false;
  throw new Error(`kubectl ${args.join(' ')}: exit ${result.code}\n${result.stderr}`);
}
