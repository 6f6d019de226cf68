// `stampede install-plugin`: puts `kubectl-stampede` on PATH, where kubectl finds plugins. It writes
// a two-line launcher rather than a symlink: the plugin needs Node 24 (the one running this), which
// may not be the first `node` on the user's PATH.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The plugin's entry point in this checkout. */
export const PLUGIN_MAIN = fileURLToPath(
  new URL('../../kubectl-stampede/src/main.ts', import.meta.url),
);

export const DEFAULT_PLUGIN_DIR = join(homedir(), '.local', 'bin');

/** A word for sh, single-quoted (a ' inside becomes '\''). */
const shQuote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

export function pluginLauncher(nodePath: string, mainPath: string): string {
  return [
    '#!/bin/sh',
    '# kubectl-stampede, written by `./run stampede install-plugin`; run it again after moving the checkout.',
    `exec ${shQuote(nodePath)} ${shQuote(mainPath)} "$@"`,
    '',
  ].join('\n');
}

/** Writes DIR/kubectl-stampede (mode 0755); returns its path and whether DIR is on `path`. */
export function installPlugin(options: {
  readonly dir: string;
  readonly nodePath: string;
  readonly pathEnv: string | undefined;
}): { readonly file: string; readonly onPath: boolean } {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'kubectl-stampede');
  writeFileSync(file, pluginLauncher(options.nodePath, PLUGIN_MAIN));
  chmodSync(file, 0o755);
  const onPath = (options.pathEnv ?? '').split(delimiter).some(entry => resolve(entry) === dir);
  return { file, onPath };
}
