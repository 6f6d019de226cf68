// Rendering deploy/helm/stampede the way an operator does (`helm template`, `helm lint`), with the
// Helm built from go/helm (or $STAMPEDE_HELM_BIN), and comparing it with a Kustomize rendering.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { resolveHelmBinary } from '@stampede/harness';
import { DEPLOY, parseYamlDocuments } from './render.ts';
import type { K8sObject } from './render.ts';

const run = promisify(execFile);

export const CHART = join(DEPLOY, 'helm', 'stampede');
export const RELEASE = 'stampede';
export const NAMESPACE = 'stampede-system';

let helm: Promise<string> | undefined;
/** The helm binary: $STAMPEDE_HELM_BIN, else scripts/build-helm.sh (minutes when cold). */
export const helmBinary = (): Promise<string> =>
  (helm ??= resolveHelmBinary(line => process.stderr.write(`${line}\n`)));

/** The example values files under the chart's examples/, by name without `.yaml`. */
export function exampleNames(chart = CHART): string[] {
  return readdirSync(join(chart, 'examples'))
    .filter(file => file.endsWith('.yaml'))
    .map(file => file.slice(0, -'.yaml'.length))
    .sort();
}

export interface HelmOptions {
  /** An example's name (examples/<name>.yaml), or undefined for the chart's defaults. */
  readonly example?: string | undefined;
  /** `--set` arguments, `key=value`. */
  readonly set?: readonly string[];
  /** Another chart directory (a mutated scratch copy). */
  readonly chart?: string;
}

function valueArgs(options: HelmOptions): string[] {
  const chart = options.chart ?? CHART;
  const args: string[] = [];
  if (options.example !== undefined)
    args.push('-f', join(chart, 'examples', `${options.example}.yaml`));
  for (const set of options.set ?? []) args.push('--set', set);
  return args;
}

/** `helm template stampede <chart> -n stampede-system …`: the YAML and its objects. */
export async function helmTemplate(
  options: HelmOptions = {},
): Promise<{ yaml: string; objects: K8sObject[] }> {
  const args = [
    'template',
    RELEASE,
    options.chart ?? CHART,
    '-n',
    NAMESPACE,
    ...valueArgs(options),
  ];
  const { stdout } = await run(await helmBinary(), args, { maxBuffer: 16 * 1024 * 1024 });
  return { yaml: stdout, objects: parseYamlDocuments(stdout) };
}

/** `helm lint --strict`; resolves with its output, rejects (with the output) when it fails. */
export async function helmLint(options: HelmOptions = {}): Promise<string> {
  const args = ['lint', '--strict', options.chart ?? CHART, ...valueArgs(options)];
  try {
    const { stdout, stderr } = await run(await helmBinary(), args);
    return stdout + stderr;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`helm ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: error });
  }
}

export const objectKey = (o: K8sObject): string =>
  `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * The differences between a Kustomize rendering and the Helm one that are by design, each with its
 * reason. `normalise` removes exactly these; everything else must be equal.
 */
export const DESIGNED_DIFFERENCES: readonly { readonly what: string; readonly why: string }[] = [
  {
    what: 'labels app.kubernetes.io/managed-by (kustomize | Helm), app.kubernetes.io/instance, app.kubernetes.io/version, helm.sh/chart on object metadata',
    why: "each tool's own bookkeeping; selectors and pod template labels are the same two keys in both, so a Kustomize install can be adopted (selectors are immutable)",
  },
  {
    what: 'label app.kubernetes.io/part-of: stampede on the objects of components (dashboard, Redis, autoscalers, ServiceMonitors)',
    why: "the base's `labels` transformer reaches the base's resources only; the chart labels every object alike",
  },
  {
    what: 'the generated ConfigMaps (stampede-policy, stampede-redis-config) carry no content-hash suffix in Helm, and labels (their labels are not compared)',
    why: "configMapGenerator gives them none but the base's; Kustomize rolls the pods by renaming the ConfigMap; Helm keeps the name and rolls them with a checksum/* pod template annotation instead",
  },
  {
    what: 'pod template annotations checksum/policy (worker) and checksum/config (Redis)',
    why: 'the roll-on-change of the line above',
  },
  {
    what: 'policy.yaml is compared as parsed YAML, not text',
    why: 'deploy/base/policy.yaml carries comments; the chart renders `policy` from values (the comments are in values.yaml)',
  },
];

const HASHED = /^(stampede-policy|stampede-redis-config)-[a-z0-9]{10}$/;
const TOOL_LABELS = [
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'helm.sh/chart',
];

type Labels = Record<string, string>;
const without = (map: Labels | undefined, drop: (key: string) => boolean): Labels | undefined => {
  if (map === undefined) return undefined;
  const kept = Object.entries(map).filter(([key]) => !drop(key));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
};

/** An object less DESIGNED_DIFFERENCES, for comparing a Kustomize rendering with a Helm one. */
export function normalise(object: K8sObject): K8sObject {
  const copy = JSON.parse(
    JSON.stringify(object, (_key, value: unknown) =>
      typeof value === 'string' ? value.replace(HASHED, '$1') : value,
    ),
  ) as {
    metadata: { labels?: Labels | undefined };
    spec?: { template?: { metadata?: { annotations?: Labels | undefined } } };
    data?: Labels;
  };
  copy.metadata.labels =
    object.kind === 'ConfigMap'
      ? undefined
      : (without(copy.metadata.labels, key => TOOL_LABELS.includes(key)) ?? {});
  const template = copy.spec?.template?.metadata;
  if (template !== undefined)
    template.annotations = without(template.annotations, key => key.startsWith('checksum/'));
  const policy = copy.data?.['policy.yaml'];
  if (policy !== undefined && copy.data !== undefined)
    copy.data['policy.yaml'] = JSON.stringify(parse(policy) ?? null);
  // Drop the undefined values set above, so that a missing field equals a removed one.
  return JSON.parse(JSON.stringify(copy)) as K8sObject;
}
