// Small shared helpers: free ports, temp dirs, progress lines.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerDir, unregisterDir } from './teardown.ts';

/**
 * A port that was free a moment ago. Another process can still take it before our child binds
 * it, so every caller retries with a fresh port when its child reports "address already in use".
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** STAMPEDE_HARNESS_KEEP=1 keeps temp dirs (logs, PKI, data) after teardown for debugging. */
export function keepTempDirs(): boolean {
  return process.env['STAMPEDE_HARNESS_KEEP'] === '1';
}

/** A fresh temp dir, registered for deletion by every teardown layer (unless kept). */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `stampede-${prefix}-`));
  if (!keepTempDirs()) registerDir(dir);
  return dir;
}

/** Deletes a dir made by makeTempDir and forgets it (unless STAMPEDE_HARNESS_KEEP=1). */
export function removeTempDir(dir: string): void {
  if (keepTempDirs()) return;
  rmSync(dir, { recursive: true, force: true });
  unregisterDir(dir);
}

export type Logger = (line: string) => void;

/** Progress on stderr; STAMPEDE_HARNESS_QUIET=1 silences it. */
export const stderrLogger: Logger = line => {
  if (process.env['STAMPEDE_HARNESS_QUIET'] !== '1') process.stderr.write(`[harness] ${line}\n`);
};

export function isAddressInUse(log: string): boolean {
  return /address already in use/i.test(log);
}
