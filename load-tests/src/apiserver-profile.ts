// A CPU profile of kube-apiserver itself (Go pprof, `--profiling=true`), taken during a scenario, and
// its top functions by `go tool pprof` when Go is installed: where the control plane's share of
// the cores goes (TLS, JSON, etcd, authorization, watch fan-out, …).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { KubeClient } from '@stampede/harness';

export interface GoProfile {
  readonly file: string;
  readonly seconds: number;
  /** `go tool pprof -top` output (flat and cumulative), or why there is none. */
  readonly top: string;
  readonly topCumulative: string;
}

/** A binary GET with the client's credentials (its own client decodes bodies as text). */
function getBytes(client: KubeClient, path: string): Promise<{ status: number; body: Buffer }> {
  const c = client.credentials;
  const url = new URL(path, c.server);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca: c.caPem,
        ...(c.certPem === undefined ? {} : { cert: c.certPem }),
        ...(c.keyPem === undefined ? {} : { key: c.keyPem }),
        headers: c.token === undefined ? {} : { authorization: `Bearer ${c.token}` },
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** GET /debug/pprof/profile?seconds=N as admin; resolves when the profile is written. */
export async function profileApiserver(
  admin: KubeClient,
  seconds: number,
  file: string,
): Promise<GoProfile> {
  const response = await getBytes(admin, `/debug/pprof/profile?seconds=${seconds}`);
  if (response.status !== 200) {
    const top = `HTTP ${response.status} (is --profiling on?)`;
    return { file, seconds, top, topCumulative: '' };
  }
  writeFileSync(file, response.body);
  return { file, seconds, top: pprofTop(file, []), topCumulative: pprofTop(file, ['-cum']) };
}

function pprofTop(file: string, extra: string[]): string {
  try {
    return execFileSync('go', ['tool', 'pprof', '-top', '-nodecount=30', ...extra, file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    return `go tool pprof failed: ${String(error).slice(0, 300)}`;
  }
}
