// kubectl-stampede: argument parsing and dispatch. main.ts wires it to the process; tests call run()
// with a client of their own.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { KubeClient } from '@stampede/kube';
import { defaultPolicy, loadPolicy } from '@stampede/policy';
import type { Policy, SignatureVerifier } from '@stampede/policy';
import { parse as parseYaml } from 'yaml';
import type { ExplainOptions } from './explain.ts';

export const USAGE = `usage: kubectl stampede <command> [flags]

Asks the cluster in your kubeconfig why stampede approves, denies or holds a kubelet serving
certificate. Reads only; decides with the worker's own code and policy.

commands:
  explain CSR   read the CSR, its requester's Node, the Nodes that claim the same names and
                addresses, and the Service ranges, and print the decision and every reason exactly
                as a worker would (a decided CSR: as if it were still pending, next to its
                recorded condition). The SubjectAccessReview is asked when you may create one, and
                skipped (assumed allowed) when you may not
  pending       list pending kubelet-serving CSRs oldest first: age, node, the reason of
                stampede's last Event about it, and the decision a worker would reach now

flags:
  --kubeconfig FILE   kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)
  --context NAME      kubeconfig context (default: its current context)
  --policy FILE       the policy your workers load (YAML or JSON; default: the built-in policy);
                      the operator guide shows how to fetch it from the stampede-policy ConfigMap
  --timeout SECONDS   how long to wait for the Node and ServiceCIDR lists (default 30)
  -o, --output FORMAT explain: text (default) or json (stampede check's object, plus wouldWrite,
                      recorded and subjectAccessReview)
  --no-explain        pending: leave out the decision column (no Node reads, no reviews)
  -h, --help          show this help

Exit status: 0 on an answer (whatever the decision), 1 when the API server refused or the CSR does
not exist, 2 on bad flags.`;

export interface PluginIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now: () => number;
}

export interface PluginDeps {
  /** A client for the user's kubeconfig (and context). */
  readonly connect: (options: {
    readonly kubeconfig: string | undefined;
    readonly context: string | undefined;
  }) => Promise<KubeClient>;
  readonly verifier: SignatureVerifier;
}

/** A bad flag or file (exit 2). */
export class UsageError extends Error {}

function readPolicy(path: string | undefined): Policy {
  if (path === undefined) return defaultPolicy;
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    const detail = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    throw new UsageError(`cannot read the policy ${path}: ${detail}`);
  }
  const loaded = loadPolicy(document ?? {});
  if (!loaded.ok) throw new UsageError(`invalid policy ${path}: ${loaded.errors.join('; ')}`);
  return loaded.policy;
}

function parse(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      policy: { type: 'string' },
      timeout: { type: 'string', default: '30' },
      output: { type: 'string', short: 'o', default: 'text' },
      'no-explain': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    throw new UsageError(`--timeout must be a positive number of seconds, not ${values.timeout}`);
  if (values.output !== 'text' && values.output !== 'json')
    throw new UsageError(`--output must be text or json, not ${values.output}`);
  return { ...values, output: values.output, timeoutMs: timeoutSeconds * 1000, positionals };
}

type Parsed = ReturnType<typeof parse>;

interface Setup {
  readonly flags: Parsed;
  readonly deps: PluginDeps;
  readonly io: PluginIo;
  /** False when nothing is decided (pending --no-explain): the Node and ServiceCIDR lists are not waited for. */
  readonly needsViews: boolean;
}

async function withClient<T>(
  { flags, deps, io, needsViews }: Setup,
  use: (context: ExplainOptions, kube: KubeClient) => Promise<T>,
): Promise<T> {
  const policy = readPolicy(flags.policy);
  // Loaded here, not at the top: `--help` and bad flags answer without loading the API client.
  const { startViews } = await import('./explain.ts');
  const kube = await deps.connect({ kubeconfig: flags.kubeconfig, context: flags.context });
  const controller = new AbortController();
  const timeoutMs = needsViews ? flags.timeoutMs : 0;
  const views = await startViews(kube, { timeoutMs, now: io.now });
  try {
    const context = {
      kube,
      views,
      policy,
      verifier: deps.verifier,
      now: io.now,
      signal: controller.signal,
    };
    return await use(context, kube);
  } finally {
    views.close();
    controller.abort();
    await kube.close();
  }
}

async function dispatch(argv: readonly string[], io: PluginIo, deps: PluginDeps): Promise<number> {
  const flags = parse(argv);
  const [command, ...args] = flags.positionals;
  if (flags.help || command === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  // Loaded here, not at the top: `--help` and bad flags answer without loading the API client.
  const { explainCsr } = await import('./explain.ts');
  const { explanationJson, formatExplanation, formatPending } = await import('./format.ts');
  const { listPending } = await import('./pending.ts');
  switch (command) {
    case 'explain': {
      const [name, ...extra] = args;
      if (name === undefined || extra.length > 0)
        throw new UsageError('explain takes exactly one CSR name');
      const setup = { flags, deps, io, needsViews: true };
      const explanation = await withClient(setup, context => explainCsr(context, name));
      io.stdout(
        flags.output === 'json'
          ? explanationJson(explanation)
          : formatExplanation(explanation, io.now()),
      );
      return 0;
    }
    case 'pending': {
      if (args.length > 0) throw new UsageError('pending takes no arguments');
      const explain = !flags['no-explain'];
      const setup = { flags, deps, io, needsViews: explain };
      const rows = await withClient(setup, (context, kube) =>
        listPending(kube, context, explain ? context : undefined),
      );
      io.stdout(formatPending(rows));
      return 0;
    }
    case undefined:
      io.stderr(USAGE);
      return 2;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)} (try --help)`);
  }
}

/** Runs the plugin; returns the exit status. Known errors become one line on stderr. */
export async function run(
  argv: readonly string[],
  io: PluginIo,
  deps: PluginDeps,
): Promise<number> {
  try {
    return await dispatch(argv, io, deps);
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    const badFlag =
      error instanceof UsageError ||
      (error instanceof Error &&
        'code' in error &&
        String(error.code).startsWith('ERR_PARSE_ARGS'));
    if (badFlag) {
      io.stderr(`kubectl-stampede: ${message}`);
      return 2;
    }
    const { NoSuchCsrError } = await import('./explain.ts');
    const { KubeApiError } = await import('@stampede/kube');
    if (error instanceof NoSuchCsrError || error instanceof KubeApiError) {
      io.stderr(`kubectl-stampede: ${message}`);
      return 1;
    }
    throw error;
  }
}
