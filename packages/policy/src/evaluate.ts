// The decision algorithm over an already-parsed request (packages/policy/README.md):
// fact-free rules first, all of them, and deny at once if any fails; then the facts (retry while one
// is missing for a reason that may pass); then the rules that read facts. decide.ts adds triage and
// parsing in front of this.
import { checks } from './checks/index.ts';
import { nodeNameFromUsername } from './checks/requester.ts';
import { requestedSans } from './checks/sans.ts';
import { readServiceRanges } from './checks/service-ranges.ts';
import { inventoryWithServedCertificate } from './checks/evidence.ts';
import { show, violation } from './checks/context.ts';
import type { Check, CheckContext, CheckResult, FactContext } from './checks/context.ts';
import type { Cidr } from './ip.ts';
import type { Policy } from './policy.ts';
import type {
  CsrRequest,
  Decision,
  Fact,
  FactName,
  Facts,
  NodeFact,
  ParseResult,
  SignatureVerifier,
  Violation,
} from './types.ts';

export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
const SETTLED_CONDITIONS: readonly string[] = ['Approved', 'Denied', 'Failed'];
/** Condition messages stay readable in `kubectl describe` and far below API object limits. */
export const MAX_MESSAGE_LENGTH = 4096;

/** Rules 1–2: why this CSR is not ours to decide (write nothing), or undefined. */
export function triage(request: CsrRequest): Violation | undefined {
  if (request.signerName !== KUBELET_SERVING_SIGNER) {
    return violation('SignerMismatch', `signer is not ${KUBELET_SERVING_SIGNER}`);
  }
  const settled = SETTLED_CONDITIONS.find(type => request.conditionTypes.includes(type));
  if (settled !== undefined)
    return violation('AlreadyDecided', `CSR already has condition ${settled}`);
  if (request.hasCertificate) return violation('AlreadyIssued', 'CSR already has a certificate');
  if (request.deleting) return violation('Deleting', 'CSR is being deleted');
  return undefined;
}

type RequestRow = Extract<Check, { needs: readonly [] }>;
type FactRow = Extract<Check, { needs: readonly [FactName, ...FactName[]] }>;
const requestRows = checks.filter((row): row is RequestRow => row.needs.length === 0);
const factRows = checks.filter((row): row is FactRow => row.needs.length > 0);

/** What the shell must fetch before decide() can approve: the Node, and any fact an enabled rule reads. */
export interface RequiredFacts {
  /** The Node to GET, or undefined when the username is not a node identity (decide denies it). */
  readonly nodeName: string | undefined;
  /** Always includes `node`: the Node must exist (NodeNotFound after the grace window). */
  readonly facts: readonly FactName[];
}

export function requiredFacts(request: CsrRequest, policy: Policy): RequiredFacts {
  const facts = new Set<FactName>(['node']);
  for (const row of factRows)
    if (row.enabled(policy)) for (const fact of row.needs) facts.add(fact);
  // Read by the inventory row only as an alternative voucher, so no row needs it.
  if (policy.evidence.servedCertificate !== undefined) facts.add('servedCertificate');
  return { nodeName: nodeNameFromUsername(request.username), facts: [...facts] };
}

function collect(into: Violation[], result: CheckResult): void {
  if (result === undefined) return;
  if ('code' in result) into.push(result);
  else into.push(...result);
}

function joinCapped(parts: readonly string[]): string {
  let message = '';
  for (const [i, part] of parts.entries()) {
    const next = message === '' ? part : `${message}; ${part}`;
    const more = `; … and ${parts.length - i} more`;
    if (next.length + (i < parts.length - 1 ? more.length : 0) > MAX_MESSAGE_LENGTH) {
      return message === '' ? part.slice(0, MAX_MESSAGE_LENGTH) : `${message}${more}`;
    }
    message = next;
  }
  return message;
}

function deny(violations: readonly Violation[], policy: Policy): Decision {
  const first = violations[0] ?? violation('Denied', 'denied');
  return {
    kind: 'deny',
    reason: first.code,
    message: joinCapped(violations.map(v => `${v.code}: ${v.message}`)),
    violations,
    leavePending: policy.onViolation === 'leave-pending',
  };
}

const retry = (fact: FactName, reason: Violation): Decision => ({ kind: 'retry', fact, reason });

export interface EvaluateInput {
  readonly request: CsrRequest;
  /** The parse result, or undefined when the request is larger than maxRequestBytes. */
  readonly parsed: ParseResult | undefined;
  readonly policy: Policy;
  readonly facts: Facts;
  readonly verifier: SignatureVerifier;
}

/** How long the CSR has been waiting beyond its grace window (> 0 once the window has passed). */
const pastGraceMs = (request: CsrRequest, policy: Policy, facts: Facts): number =>
  facts.nowMs - request.createdAtMs - policy.nodeGraceSeconds * 1000;

/** The Node, or the decision to make while it is missing. */
function resolveNode(ctx: CheckContext, facts: Facts): NodeFact | Decision {
  const { node } = facts;
  const name = ctx.nodeName ?? '';
  switch (node.state) {
    case 'unavailable':
      return retry(
        'node',
        violation('NodeUnavailable', `could not read Node ${name}: ${show(node.reason)}`),
      );
    case 'absent': {
      const past = pastGraceMs(ctx.request, ctx.policy, facts);
      if (past > 0) {
        const message = `Node ${name} does not exist ${ctx.policy.nodeGraceSeconds} s after the CSR was created`;
        return deny([violation('NodeNotFound', message)], ctx.policy);
      }
      const left = Math.ceil(-past / 1000);
      return retry(
        'node',
        violation('NodeNotFound', `Node ${name} not found yet (${left} s of grace left)`),
      );
    }
    case 'known':
      if (node.value.name !== name) {
        const other = show(node.value.name);
        return retry(
          'node',
          violation('NodeUnavailable', `fact is for Node ${other}, not ${name}`),
        );
      }
      return node.value;
  }
}

/**
 * The facts the rows read, in the form they read them: the Service ranges parsed, and every
 * `unavailable` reason already safe to print (the shell's reasons escaped by `show`).
 */
interface RowFacts {
  readonly claimants: Facts['claimants'];
  readonly authorization: Facts['authorization'];
  readonly serviceRanges: Fact<readonly Cidr[]>;
  readonly inventory: NonNullable<Facts['inventory']>;
}

const shown = <T>(fact: Fact<T>): Fact<T> =>
  fact.state === 'unavailable' ? { state: 'unavailable', reason: show(fact.reason) } : fact;

const rowFacts = (facts: Facts, ctx: CheckContext): RowFacts => ({
  claimants: shown(facts.claimants),
  authorization: shown(facts.authorization),
  serviceRanges: readServiceRanges(shown(facts.serviceRanges)),
  // A shell that never asked (an older caller, `stampede check` without an answer) has no verdict.
  inventory: shown(
    inventoryWithServedCertificate(
      ctx,
      facts.nowMs,
      facts.inventory ?? { state: 'unavailable', reason: 'not asked' },
      facts.servedCertificate,
    ),
  ),
});

function factContext(ctx: CheckContext, node: NodeFact, facts: RowFacts): FactContext {
  const { claimants, authorization, serviceRanges, inventory } = facts;
  return {
    ...ctx,
    node,
    // Rows declare what they read (`needs`) and run only once it is known; reading an unknown fact is
    // a programming error, and it fails loudly rather than open.
    claimants:
      claimants.state === 'known'
        ? claimants.value
        : () => {
            throw new Error('claimants read without being declared in needs');
          },
    authorization: authorization.state === 'known' ? authorization.value : undefined,
    serviceRanges: serviceRanges.state === 'known' ? serviceRanges.value : undefined,
    inventory: inventory.state === 'known' ? inventory.value : undefined,
  };
}

/** The retry reason of each fact a row may read (the Node has its own, in resolveNode). */
const UNAVAILABLE: Readonly<Record<keyof RowFacts, string>> = {
  claimants: 'ClaimantsUnavailable',
  authorization: 'AuthorizationUnavailable',
  serviceRanges: 'ServiceRangesUnavailable',
  inventory: 'InventoryUnavailable',
};

function missingFact(facts: RowFacts, fact: FactName): Violation | undefined {
  // The Node has its own retry (resolveNode); the served certificate is never missing, only no
  // evidence (it is folded into the inventory's verdicts).
  if (fact === 'node' || fact === 'servedCertificate') return undefined;
  const value = facts[fact];
  if (value.state === 'known') return undefined;
  const why = value.state === 'unavailable' ? value.reason : 'not reported';
  return violation(UNAVAILABLE[fact], `${fact} unavailable: ${why}`);
}

/** Runs each enabled fact row whose facts are known; returns the retry for the first missing fact. */
function runFactRows(
  ctx: FactContext,
  facts: RowFacts,
  violations: Violation[],
  passed: string[],
): Decision | undefined {
  let pending: Decision | undefined;
  for (const row of factRows.filter(r => r.enabled(ctx.policy))) {
    const missing = row.needs
      .map(fact => ({ fact, reason: missingFact(facts, fact) }))
      .find(m => m.reason !== undefined);
    if (missing?.reason !== undefined) {
      pending ??= retry(missing.fact, missing.reason);
      continue;
    }
    collect(violations, row.check(ctx));
    passed.push(row.name);
  }
  return pending;
}

/** Rules 3–16 over a request whose triage passed. Never approves unless every enabled row ran clean. */
export function evaluate(input: EvaluateInput): Decision {
  const { request, parsed, policy, facts, verifier } = input;
  const ctx: CheckContext = {
    request,
    policy,
    nodeName: nodeNameFromUsername(request.username),
    parsed,
    sans: parsed?.ok === true ? requestedSans(parsed.csr.sans) : [],
    verifier,
  };
  const violations: Violation[] = [];
  for (const row of requestRows) collect(violations, row.check(ctx));
  if (violations.length > 0) return deny(violations, policy);

  const node = resolveNode(ctx, facts);
  if ('kind' in node) return node;
  const passed = requestRows.map(row => row.name);
  const read = rowFacts(facts, ctx);
  const pending = runFactRows(factContext(ctx, node, read), read, violations, passed);
  const noAddressesYet =
    node.addresses.length === 0 && violations.some(v => v.code === 'SanNotOwned');
  if (noAddressesYet && pastGraceMs(request, policy, facts) <= 0) {
    return retry(
      'node',
      violation('NodeHasNoAddresses', `Node ${node.name} reports no addresses yet`),
    );
  }
  if (violations.length > 0) return deny(violations, policy);
  if (pending !== undefined) return pending;
  return {
    kind: 'approve',
    reason: 'AutoApproved',
    message: `stampede approved a serving certificate for Node ${node.name}: passed ${['Node exists', ...passed].join(', ')}`,
  };
}
