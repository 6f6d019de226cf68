// Narrows a `turbo prune --docker` tree, after `npm ci --omit=dev`, to what one service runs:
//   node prod-tree.ts @stampede/<service>      (in the tree's root)
// turbo prune keeps every workspace the service reaches, devDependencies included (test helpers such
// as @stampede/harness), and npm installs every listed workspace. This keeps the workspaces reached
// through `dependencies` only, lets `npm prune --omit=dev --omit=optional --omit=peer` drop what only the others
// needed, removes
// tests and build files, and checks the result: workspace links must stay symlinks into the tree
// (Node strips types only outside node_modules, docs/adr/0004).
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

interface Manifest {
  readonly name?: string;
  workspaces?: string[];
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

const root = process.cwd();
const target = process.argv[2];
if (target === undefined) {
  process.stderr.write('usage: node prod-tree.ts <workspace package name>\n');
  process.exit(2);
}
const readManifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

const rootManifest = readManifest(root);
const byName = new Map<string, string>();
for (const dir of rootManifest.workspaces ?? []) {
  const name = readManifest(join(root, dir)).name;
  if (name !== undefined) byName.set(name, dir);
}
if (!byName.has(target)) {
  process.stderr.write(`prod-tree: ${target} is not a workspace of this tree\n`);
  process.exit(1);
}

// The production closure: workspaces reached through dependencies, never devDependencies.
const keep = new Set<string>();
const pending = [target];
for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
  const dir = byName.get(name);
  if (dir === undefined || keep.has(dir)) continue;
  keep.add(dir);
  const manifest = readManifest(join(root, dir));
  for (const deps of [
    manifest.dependencies,
    manifest.optionalDependencies,
    manifest.peerDependencies,
  ]) {
    for (const dep of Object.keys(deps ?? {})) if (byName.has(dep)) pending.push(dep);
  }
}

const dropped = [...byName.values()].filter(dir => !keep.has(dir));
for (const dir of dropped) rmSync(join(root, dir), { recursive: true, force: true });
rootManifest.workspaces = [...keep].sort();
writeFileSync(join(root, 'package.json'), `${JSON.stringify(rootManifest, null, 2)}\n`);
execFileSync(
  'npm',
  // --omit=optional: npm keeps a package that is both a devDependency and an optional peer
  // (typescript: valibot, under Bull Board, names it an optional peer) unless optional ones go too.
  // The only other optional package is msgpackr's native accelerator; msgpackr falls back to JS.
  [
    'prune',
    '--omit=dev',
    '--omit=optional',
    '--omit=peer',
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
  ],
  { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
);

// Tests, benchmarks and build configuration are not part of the image.
function removeDevFiles(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules') continue;
      if (['test', 'bench', 'coverage'].includes(entry.name)) rmSync(path, { recursive: true });
      else removeDevFiles(path);
    } else if (/\.test\.ts$|^tsconfig.*\.json$/.test(entry.name)) {
      rmSync(path);
    }
  }
}
for (const dir of keep) removeDevFiles(join(root, dir));
rmSync(join(root, 'turbo.json'), { force: true });

// Checks: every kept workspace is linked, as a symlink that resolves into the tree.
const problems: string[] = [];
const scope = join(root, 'node_modules', '@stampede');
const linked = existsSync(scope) ? readdirSync(scope) : [];
for (const name of linked) {
  const link = join(scope, name);
  if (!lstatSync(link).isSymbolicLink()) {
    problems.push(`node_modules/@stampede/${name} is a copy, not a symlink`);
    continue;
  }
  const real = existsSync(link) ? realpathSync(link) : undefined;
  if (real === undefined) problems.push(`node_modules/@stampede/${name} is a dangling link`);
  else if (real.split(sep).includes('node_modules') || !real.startsWith(resolve(root) + sep))
    problems.push(`node_modules/@stampede/${name} resolves to ${real}`);
}
for (const dir of keep) {
  const name = readManifest(join(root, dir)).name ?? dir;
  if (!linked.includes(name.replace('@stampede/', '')))
    problems.push(`${name} (${dir}) is not linked in node_modules`);
}
if (problems.length > 0) {
  process.stderr.write(`prod-tree: ${problems.join('\nprod-tree: ')}\n`);
  process.exit(1);
}
const packages = readdirSync(join(root, 'node_modules')).length;
process.stdout.write(
  `prod-tree: ${target}: workspaces ${[...keep].map(d => relative('.', d)).join(', ')}; ` +
    `dropped ${dropped.join(', ') || 'none'}; ${packages} top-level node_modules entries\n`,
);
