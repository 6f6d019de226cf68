// `stampede install-plugin` as a user runs it: a real process writes the launcher, and kubectl
// finds and runs it from PATH.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pluginLauncher } from './install-plugin.ts';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

const hasKubectl = await run('kubectl', ['version', '--client']).then(
  () => true,
  () => false,
);

describe('stampede install-plugin', () => {
  let root: string;
  // A directory name with a space and a quote: the launcher must still find Node and the plugin.
  let dir: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'stampede-plugin-'));
    dir = join(root, "it's bin");
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes an executable launcher and says when its directory is not on PATH', async () => {
    const { stdout, stderr } = await run(process.execPath, [MAIN, 'install-plugin', '--dir', dir], {
      env: { ...process.env, PATH: '/usr/bin:/bin' },
    });
    const file = join(dir, 'kubectl-stampede');
    assert.match(stdout, new RegExp(`installed ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(stderr, /is not on PATH/);
    assert.equal((await stat(file)).mode & 0o777, 0o755);
  });

  it('runs the plugin with the Node that installed it, whatever node PATH has first', async () => {
    const { stdout } = await run(join(dir, 'kubectl-stampede'), ['--help'], {
      env: { ...process.env, PATH: '/nonexistent' },
    });
    assert.match(stdout, /^usage: kubectl stampede <command>/);
  });

  it(
    'is found by kubectl as the `stampede` plugin',
    { skip: !hasKubectl && 'no kubectl' },
    async () => {
      const env = { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` };
      const { stdout } = await run('kubectl', ['stampede', 'explain', '--help'], { env });
      assert.match(stdout, /explain CSR/);
    },
  );

  const quoting: [string, string, string][] = [
    ['plain paths are quoted', '/usr/bin/node', "exec '/usr/bin/node' '/p/main.ts' \"$@\""],
    [
      'a quote in a path is closed, escaped and reopened',
      "/o'k/node",
      "exec '/o'\\''k/node' '/p/main.ts' \"$@\"",
    ],
  ];
  for (const [name, node, line] of quoting) {
    it(name, () => {
      assert.equal(pluginLauncher(node, '/p/main.ts').split('\n')[2], line);
    });
  }
});
