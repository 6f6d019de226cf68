// Replays a Dockerfile target without Docker: each stage is a directory standing in for the stage's
// root filesystem, COPY copies (context or another stage), RUN runs on this machine with the stage's
// WORKDIR as the working directory. Base images contribute nothing, so the replay proves that the
// files the Dockerfile itself puts in place are enough, which is what an image-content test needs.
//
// Supported: ARG, FROM … AS, WORKDIR, COPY [--from] [--chown] [--link], RUN (shell form), ENV,
// USER, EXPOSE, LABEL, HEALTHCHECK … CMD [exec form], CMD [exec form]. RUN commands must use paths
// relative to WORKDIR; an absolute path in one is refused (it would touch this machine's files).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, matchesGlob, relative } from 'node:path';

export interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly name: string;
  readonly base: string;
  readonly instructions: readonly Instruction[];
}

export interface ParsedDockerfile {
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
}

/** Instructions, with line continuations joined and comments dropped. */
function instructionsOf(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = `${line.slice(0, -1)} ${(lines[++i] ?? '').trim()}`;
    }
    const match = /^\s*(\w+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`Dockerfile line ${start + 1}: cannot parse ${line}`);
    instructions.push({
      op: (match[1] ?? '').toUpperCase(),
      args: (match[2] ?? '').trim(),
      line: start + 1,
    });
  }
  return instructions;
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  let current: { name: string; base: string; instructions: Instruction[] } | undefined;
  for (const instruction of instructionsOf(text)) {
    if (instruction.op === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!from) throw new Error(`line ${instruction.line}: FROM ${instruction.args}`);
      current = {
        name: from[2] ?? String(stages.length),
        base: substitute(from[1] ?? '', globalArgs),
        instructions: [],
      };
      stages.push(current);
    } else if (current !== undefined) {
      current.instructions.push(instruction);
    } else if (instruction.op === 'ARG') {
      const [name = '', value = ''] = instruction.args.split('=', 2);
      globalArgs.set(name, value);
    } else {
      throw new Error(`line ${instruction.line}: ${instruction.op} before FROM`);
    }
  }
  return { globalArgs, stages };
}

function substitute(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const value = vars.get(braced ?? bare ?? '');
    if (value === undefined) throw new Error(`unknown variable in ${text}: ${whole}`);
    return value;
  });
}

/** Docker's .dockerignore semantics, enough for ours: globs, `**`, `!` exceptions, last match wins. */
export function contextFilter(dockerignore: string): (path: string) => boolean {
  const rules = dockerignore
    .split('\n')
    .map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('#'))
    .map(line =>
      line.startsWith('!')
        ? { include: true, pattern: line.slice(1).replace(/^\/+|\/+$/g, '') }
        : { include: false, pattern: line.replace(/^\/+|\/+$/g, '') },
    );
  return path => {
    let included = true;
    for (const rule of rules) {
      // A pattern that matches a directory covers everything under it.
      const parts = path.split('/');
      const hit = parts.some((_, i) => matchesGlob(parts.slice(0, i + 1).join('/'), rule.pattern));
      if (hit) included = rule.include;
    }
    return included;
  };
}

/** Copies the build context (the repository minus .dockerignore) to `dest`. */
export function copyContext(root: string, dest: string): void {
  const ignore = join(root, '.dockerignore');
  const text = existsSync(ignore) ? readFileSync(ignore, 'utf8') : '';
  const included = contextFilter(text);
  const exceptions = text
    .split('\n')
    .map(line => line.trim())
    .filter(line => line.startsWith('!'))
    .map(line => line.slice(1));
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        // An excluded directory is entered only when an exception may re-include something in it.
        if (included(path) || exceptions.some(e => e.startsWith(`${path}/`))) walk(path);
      } else if (included(path)) {
        mkdirSync(join(dest, rel), { recursive: true });
        cpSync(join(root, path), join(dest, path), { verbatimSymlinks: true });
      }
    }
  };
  mkdirSync(dest, { recursive: true });
  walk('');
}

export interface StageResult {
  /** The directory standing in for the stage's `/`. */
  readonly root: string;
  readonly workdir: string;
  readonly env: ReadonlyMap<string, string>;
  readonly user: string | undefined;
  readonly cmd: readonly string[] | undefined;
  readonly healthcheck: readonly string[] | undefined;
  /** The external image the stage (or its ancestors) starts from. */
  readonly image: string;
}

export interface ReplayOptions {
  /** The build context: a directory already filtered by .dockerignore (copyContext). */
  readonly context: string;
  /** Where stage roots go. */
  readonly workspace: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** Replays `target` and the stages it depends on; returns the target's result. */
export function replay(
  parsed: ParsedDockerfile,
  target: string,
  options: ReplayOptions,
): StageResult {
  const done = new Map<string, StageResult>();
  const build = (name: string): StageResult => {
    const cached = done.get(name);
    if (cached !== undefined) return cached;
    const stage = parsed.stages.find(s => s.name === name);
    if (stage === undefined) throw new Error(`no stage ${name}`);
    const result = replayStage(parsed, stage, build, options);
    done.set(name, result);
    return result;
  };
  return build(target);
}

function json(text: string, where: string): string[] {
  const parsed = JSON.parse(text) as unknown;
  if (!Array.isArray(parsed) || !parsed.every(x => typeof x === 'string'))
    throw new Error(`${where}: only the exec (JSON array) form is supported`);
  return parsed;
}

interface StageState {
  readonly root: string;
  workdir: string;
  readonly env: Map<string, string>;
  readonly args: Map<string, string>;
  user: string | undefined;
  cmd: readonly string[] | undefined;
  healthcheck: readonly string[] | undefined;
}

type Handler = (
  state: StageState,
  raw: string,
  where: string,
  scope: { parsed: ParsedDockerfile; build: (name: string) => StageResult; options: ReplayOptions },
) => void;

const vars = (state: StageState): Map<string, string> => new Map([...state.args, ...state.env]);

const HANDLERS: Readonly<Record<string, Handler>> = {
  ARG: (state, raw, _where, { parsed }) => {
    const [key = '', value] = raw.split('=', 2);
    state.args.set(key, value ?? parsed.globalArgs.get(key) ?? '');
  },
  ENV: (state, raw) => {
    for (const pair of raw.split(/\s+/)) {
      const [key = '', value = ''] = pair.split('=', 2);
      state.env.set(key, substitute(value, vars(state)));
    }
  },
  WORKDIR: (state, raw) => {
    state.workdir = substitute(raw, vars(state));
    mkdirSync(join(state.root, state.workdir), { recursive: true });
  },
  COPY: (state, raw, where, { build, options }) => {
    const inStage = (path: string): string =>
      join(state.root, path.startsWith('/') ? path : join(state.workdir, path));
    copy(substitute(raw, vars(state)), { inStage, build, context: options.context, where });
  },
  RUN: (state, command, where, { options }) => {
    if (/(^|\s)\/[\w.]/.test(command)) throw new Error(`${where}: absolute path in ${command}`);
    options.log?.(`  RUN ${command}`);
    const run = spawnSync('bash', ['-euo', 'pipefail', '-c', command], {
      cwd: join(state.root, state.workdir),
      env: { ...process.env, ...Object.fromEntries(state.args), ...Object.fromEntries(state.env) },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.status !== 0)
      throw new Error(`${where} failed (${run.status}): ${command}\n${run.stdout}\n${run.stderr}`);
  },
  USER: (state, raw) => {
    state.user = raw;
  },
  CMD: (state, raw, where) => {
    state.cmd = json(raw, where);
  },
  HEALTHCHECK: (state, raw, where) => {
    const at = raw.indexOf('CMD ');
    if (at < 0) throw new Error(`${where}: no CMD`);
    state.healthcheck = json(raw.slice(at + 4), where);
  },
  EXPOSE: () => undefined,
  LABEL: () => undefined,
};

/** A stage starts from its parent stage's state, or from nothing (an external image). */
function initialState(root: string, parent: StageResult | undefined): StageState {
  if (parent === undefined)
    return {
      root,
      workdir: '/',
      env: new Map(),
      args: new Map(),
      user: undefined,
      cmd: undefined,
      healthcheck: undefined,
    };
  return { ...parent, root, env: new Map(parent.env), args: new Map() };
}

function replayStage(
  parsed: ParsedDockerfile,
  stage: Stage,
  build: (name: string) => StageResult,
  options: ReplayOptions,
): StageResult {
  const root = join(options.workspace, stage.name);
  const parent = parsed.stages.some(s => s.name === stage.base) ? build(stage.base) : undefined;
  if (parent !== undefined) cpSync(parent.root, root, { recursive: true, verbatimSymlinks: true });
  else mkdirSync(root, { recursive: true });
  const state = initialState(root, parent);
  options.log?.(`stage ${stage.name} (from ${stage.base})`);
  for (const { op, args: raw, line } of stage.instructions) {
    const where = `Dockerfile:${line} ${op}`;
    const handler = HANDLERS[op];
    if (handler === undefined) throw new Error(`${where}: not supported by the replay`);
    handler(state, raw, where, { parsed, build, options });
  }
  const { workdir, env, user, cmd, healthcheck } = state;
  return { root, workdir, env, user, cmd, healthcheck, image: parent?.image ?? stage.base };
}

interface CopyScope {
  readonly inStage: (path: string) => string;
  readonly build: (name: string) => StageResult;
  readonly context: string;
  readonly where: string;
}

/** Splits `[--from=x] [--chown=…] src… dest`. */
function copyArgs(raw: string, where: string): { from?: string; sources: string[]; dest: string } {
  const words = raw.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift() ?? '';
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
    else if (!/^--(chown|chmod|link)(=|$)/.test(flag)) throw new Error(`${where}: ${flag}`);
  }
  const dest = words.pop();
  if (dest === undefined || words.length === 0) throw new Error(`${where}: ${raw}`);
  return { ...(from === undefined ? {} : { from }), sources: words, dest };
}

/** COPY with Docker's rules: a directory's contents, not the directory; `dest/` is a directory. */
function copy(raw: string, scope: CopyScope): void {
  const { from, sources, dest } = copyArgs(raw, scope.where);
  const sourceRoot = from === undefined ? scope.context : scope.build(from).root;
  const target = scope.inStage(dest);
  const intoDirectory = dest.endsWith('/') || sources.length > 1;
  for (const source of sources) {
    if (/[*?[]/.test(source)) throw new Error(`${scope.where}: globs are not supported`);
    const path = join(sourceRoot, source);
    if (!existsSync(path)) throw new Error(`${scope.where}: ${source} does not exist`);
    if (statSync(path).isDirectory()) {
      mkdirSync(target, { recursive: true });
      cpSync(path, target, { recursive: true, verbatimSymlinks: true });
      continue;
    }
    const file = intoDirectory ? join(target, basename(path)) : target;
    mkdirSync(join(file, '..'), { recursive: true });
    cpSync(path, file, { verbatimSymlinks: true });
  }
}

/** Final stages: those no other stage builds on or copies from. */
export function finalStages(parsed: ParsedDockerfile): string[] {
  const used = new Set<string>();
  for (const stage of parsed.stages) {
    used.add(stage.base);
    for (const i of stage.instructions) {
      const from = /--from=(\S+)/.exec(i.args);
      if (i.op === 'COPY' && from) used.add(from[1] ?? '');
    }
  }
  return parsed.stages.map(s => s.name).filter(name => !used.has(name));
}

/** Maps a container path (`/app/x`) to the replayed tree. */
export function hostPath(result: StageResult, path: string): string {
  return join(result.root, relative('/', path.startsWith('/') ? path : join(result.workdir, path)));
}
