// Rendering deploy/ the way an operator does (`kubectl kustomize`), and reading the result.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '@stampede/harness';

const run = promisify(execFile);

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

export const ROOT = repoRoot();
export const DEPLOY = join(ROOT, 'deploy');

/** Every overlay under deploy/overlays, by directory name. */
export function overlayNames(): string[] {
  return readdirSync(join(DEPLOY, 'overlays'), { withFileTypes: true })
    .filter(entry => entry.isDirectory())
    .map(entry => entry.name)
    .sort();
}

export function parseYamlDocuments(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map(doc => {
      if (doc.errors.length > 0) throw new Error(doc.errors.map(e => e.message).join('\n'));
      return doc.toJS() as K8sObject | null;
    })
    .filter((doc): doc is K8sObject => doc !== null);
}

/** `kubectl kustomize <dir>`: the YAML an operator would apply, and its objects. */
export async function render(dir: string): Promise<{ yaml: string; objects: K8sObject[] }> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
  return { yaml: stdout, objects: parseYamlDocuments(stdout) };
}

export function renderOverlay(name: string): Promise<{ yaml: string; objects: K8sObject[] }> {
  return render(join(DEPLOY, 'overlays', name));
}

export const ofKind = (objects: readonly K8sObject[], kind: string): K8sObject[] =>
  objects.filter(o => o.kind === kind);

export function named(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find(o => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
}

// ---- typed views of the pieces the tests read --------------------------------------------------

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly secretKeyRef?: { readonly name: string; readonly key: string };
    readonly fieldRef?: { readonly fieldPath: string };
  };
}

export interface Probe {
  readonly httpGet?: { readonly path: string; readonly port: string | number };
  readonly exec?: { readonly command: readonly string[] };
  readonly tcpSocket?: { readonly port: string | number };
  readonly periodSeconds?: number;
  readonly failureThreshold?: number;
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[];
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly startupProbe?: Probe;
  readonly resources?: {
    readonly requests?: Readonly<Record<string, string>>;
    readonly limits?: Readonly<Record<string, string>>;
  };
  readonly securityContext?: {
    readonly allowPrivilegeEscalation?: boolean;
    readonly readOnlyRootFilesystem?: boolean;
    readonly privileged?: boolean;
    readonly runAsNonRoot?: boolean;
    readonly capabilities?: { readonly drop?: readonly string[]; readonly add?: readonly string[] };
  };
}

export interface PodSpec {
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken?: boolean;
  readonly terminationGracePeriodSeconds?: number;
  readonly securityContext?: {
    readonly runAsNonRoot?: boolean;
    readonly runAsUser?: number;
    readonly seccompProfile?: { readonly type: string };
  };
  readonly containers: readonly Container[];
  readonly topologySpreadConstraints?: readonly { readonly topologyKey: string }[];
}

export interface PodTemplate {
  readonly metadata: { readonly labels?: Readonly<Record<string, string>> };
  readonly spec: PodSpec;
}

/** The pod template of a Deployment or StatefulSet. */
export function podTemplate(workload: K8sObject): PodTemplate {
  const spec = workload['spec'] as { template?: PodTemplate } | undefined;
  if (spec?.template === undefined) throw new Error(`${workload.kind} has no pod template`);
  return spec.template;
}

export const workloads = (objects: readonly K8sObject[]): K8sObject[] =>
  objects.filter(o => o.kind === 'Deployment' || o.kind === 'StatefulSet');
