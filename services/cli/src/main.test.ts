// `stampede check` and `stampede demo` as a user runs them: a real process, real files.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CertificateAuthority, generateKeyPair } from '@stampede/harness';
import { kubeletCsr } from '@stampede/testing';
import { stringify as toYaml } from 'yaml';
import type { CheckReport } from './report.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const CREATED = '2026-01-01T12:00:00Z';
const SOON = '2026-01-01T12:01:00Z';
const LATE = '2026-01-01T12:30:00Z';

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function stampede(args: readonly string[], stdin?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', code => {
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}

function csrObject(pem: string, spec: object = {}) {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'csr-abc12', uid: 'u-1', creationTimestamp: CREATED },
    spec: {
      request: Buffer.from(pem).toString('base64'),
      signerName: 'kubernetes.io/kubelet-serving',
      usages: ['digital signature', 'server auth'],
      username: 'system:node:node-a',
      groups: ['system:nodes', 'system:authenticated'],
      ...spec,
    },
    status: {},
  };
}

const node = (name: string, created: string, ip: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, creationTimestamp: created },
  status: {
    addresses: [
      { type: 'Hostname', address: name },
      { type: 'InternalIP', address: ip },
    ],
  },
});

const nodeA = node('node-a', '2025-06-01T00:00:00Z', '10.0.0.1');
const nodeB = node('node-b', '2025-01-01T00:00:00Z', '10.0.0.2');
const nodeList = {
  apiVersion: 'v1',
  kind: 'List',
  items: [nodeA, nodeB],
  metadata: { resourceVersion: '' },
};
const goodPem = kubeletCsr({ nodeName: 'node-a', dnsNames: ['node-a'], ips: ['10.0.0.1'] }).pemText;
/** The Service range flag the approvals need: without it a clean CSR is a retry. */
const SVC = ['--service-cidr', '10.96.0.0/12'];

/** An older Node with 70 addresses and the newer node-a, which also reports the 65th of them. */
const many = {
  apiVersion: 'v1',
  kind: 'List',
  items: [
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-old', creationTimestamp: '2024-01-01T00:00:00Z' },
      status: {
        addresses: Array.from({ length: 70 }, (_, i) => ({
          type: 'InternalIP',
          address: `10.1.0.${i + 1}`,
        })),
      },
    },
    node('node-a', '2025-06-01T00:00:00Z', '10.1.0.65'),
  ],
};
const sixtyFifthPem = kubeletCsr({
  nodeName: 'node-a',
  dnsNames: ['node-a'],
  ips: ['10.1.0.65'],
}).pemText;
const stolenPem = kubeletCsr({
  nodeName: 'node-a',
  dnsNames: ['node-a'],
  ips: ['10.0.0.2'],
}).pemText;

/** The inventory's answer about 10.0.0.1 for the CSR with `uid`. */
function inventoryAnswer(uid: string, vouched: boolean): string {
  const san = { type: 'IP', value: '10.0.0.1', vouched, ...(vouched ? {} : { reason: 'retired' }) };
  return JSON.stringify({
    apiVersion: 'stampede.io/v1alpha1',
    kind: 'InventoryReview',
    response: { uid, sans: [san] },
  });
}

const inventoryArgs = (answer: string | undefined): string[] => [
  ...['--csr', file('csr.json'), '--nodes', file('nodes.json'), ...SVC],
  ...['--policy', file('inventory.yaml'), '--now', SOON],
  ...(answer === undefined ? [] : ['--inventory-answer', file(`${answer}.json`)]),
];

/** A serving certificate as a kubelet would present it, issued by `ca` (default: the serving CA). */
const servingCa = CertificateAuthority.create('kubelet-serving-test-ca');
function servedPem(commonName: string, ca = servingCa): string {
  return ca.issue(
    {
      subject: { commonName, organizations: ['system:nodes'] },
      dnsNames: ['node-a'],
      ips: ['10.0.0.1'],
      extKeyUsages: ['serverAuth'],
      notBefore: new Date('2025-12-31T00:00:00Z'),
      notAfter: new Date('2026-02-01T00:00:00Z'),
    },
    generateKeyPair().spki,
  ).certPem;
}

/** Under the served-certificate policy, with the served certificate `served` and no inventory answer. */
const servedArgs = (served: string, answer?: string): string[] => [
  ...['--csr', file('csr.json'), '--nodes', file('nodes.json'), ...SVC],
  ...['--policy', file('served.yaml'), '--now', SOON],
  ...['--served-certificate', file(`${served}.pem`), '--served-certificate-ca', file('ca.pem')],
  ...(answer === undefined ? [] : ['--inventory-answer', file(`${answer}.json`)]),
];

let dir = '';
const file = (name: string) => join(dir, name);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stampede-cli-'));
  const files: Record<string, string> = {
    'csr.json': JSON.stringify(csrObject(goodPem), null, 2),
    'csr.yaml': toYaml(csrObject(goodPem)),
    'stolen.json': JSON.stringify(csrObject(stolenPem)),
    'client-auth.json': JSON.stringify(
      csrObject(goodPem, { usages: ['digital signature', 'server auth', 'client auth'] }),
    ),
    'other-signer.json': JSON.stringify(
      csrObject('not even PEM', { signerName: 'example.com/other' }),
    ),
    'nodes.json': JSON.stringify(nodeList),
    'many.json': JSON.stringify(many),
    'sixty-fifth.json': JSON.stringify(csrObject(sixtyFifthPem)),
    'no-service-ranges.yaml': 'reserved:\n  serviceRanges: false\n',
    'node-a.yaml': toYaml(nodeA),
    'leave-pending.yaml': 'onViolation: leave-pending\n',
    'bad-policy.yaml': 'onViolation: skip\nmaxSAN: 3\n',
    'lists-only.yaml': 'ownership:\n  mode: allow-lists-only\n',
    'broken.json': '{"kind": ',
    'pod.json': JSON.stringify({ kind: 'Pod', metadata: { name: 'p' } }),
    'inventory.yaml': 'evidence:\n  require: [inventory]\n',
    'vouched.json': inventoryAnswer('u-1', true),
    'refused.json': inventoryAnswer('u-1', false),
    'other-uid.json': inventoryAnswer('u-2', true),
    'served.yaml':
      'evidence:\n  require: [inventory]\n  servedCertificate:\n    issuedAfter: 2025-12-01T00:00:00Z\n',
    'ca.pem': servingCa.certPem,
    'served-node-a.pem': servedPem('system:node:node-a'),
    'served-node-b.pem': servedPem('system:node:node-b'),
    'served-other-ca.pem': servedPem('system:node:node-a', CertificateAuthority.create('other')),
  };
  await Promise.all(Object.entries(files).map(([name, text]) => writeFile(file(name), text)));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function decisionOf(result: Result): CheckReport {
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  return JSON.parse(result.stdout) as CheckReport;
}

const codes = (output: CheckReport) => output.reasons.map(r => r.code);

describe('stampede check', { concurrency: 4 }, () => {
  const decisions: [string, () => string[], string, string[]][] = [
    [
      'approves a kubelet CSR (JSON) with its Node in a List',
      () => ['--csr', file('csr.json'), '--nodes', file('nodes.json'), ...SVC, '--now', SOON],
      'approve',
      ['AutoApproved'],
    ],
    [
      'approves a CSR given as YAML with a single Node as YAML',
      () => ['--csr', file('csr.yaml'), '--nodes', file('node-a.yaml'), ...SVC, '--now', SOON],
      'approve',
      ['AutoApproved'],
    ],
    [
      'approves under an inventory policy when the saved answer vouches for the IP',
      () => inventoryArgs('vouched'),
      'approve',
      ['AutoApproved'],
    ],
    [
      'denies SanNotVouched under an inventory policy when the saved answer refuses the IP',
      () => inventoryArgs('refused'),
      'deny',
      ['SanNotVouched'],
    ],
    [
      'retries under an inventory policy when the saved answer is for another CSR',
      () => inventoryArgs('other-uid'),
      'retry',
      ['InventoryUnavailable'],
    ],
    [
      'retries under an inventory policy without --inventory-answer',
      () => inventoryArgs(undefined),
      'retry',
      ['InventoryUnavailable'],
    ],
    [
      'approves without an inventory answer when the served certificate holds every SAN',
      () => servedArgs('served-node-a'),
      'approve',
      ['AutoApproved'],
    ],
    [
      'retries when the served certificate is another node’s',
      () => servedArgs('served-node-b'),
      'retry',
      ['InventoryUnavailable'],
    ],
    [
      'retries when the served certificate is not from the kubelet-serving CA',
      () => servedArgs('served-other-ca'),
      'retry',
      ['InventoryUnavailable'],
    ],
    [
      'denies on the saved answer’s refusal whatever the served certificate holds',
      () => servedArgs('served-node-a', 'refused'),
      'deny',
      ['SanNotVouched'],
    ],
    [
      'retries a CSR that passes everything else when no Service range is given',
      () => ['--csr', file('csr.json'), '--nodes', file('nodes.json'), '--now', SOON],
      'retry',
      ['ServiceRangesUnavailable'],
    ],
    [
      'approves without --service-cidr when the policy switches Service ranges off',
      () => [
        '--csr',
        file('csr.json'),
        '--nodes',
        file('nodes.json'),
        '--policy',
        file('no-service-ranges.yaml'),
        '--now',
        SOON,
      ],
      'approve',
      ['AutoApproved'],
    ],
    [
      'denies an IP SAN inside a --service-cidr range, though the Node reports it',
      () => [
        '--csr',
        file('csr.json'),
        '--nodes',
        file('nodes.json'),
        '--service-cidr',
        '10.0.0.0/24',
        '--now',
        SOON,
      ],
      'deny',
      ['ServiceIp'],
    ],
    [
      'reads --service-cidr repeated, comma- and space-separated, with single IPs',
      () => [
        '--csr',
        file('csr.json'),
        '--nodes',
        file('nodes.json'),
        '--service-cidr',
        'fd00:10:96::/112, 10.96.0.0/12',
        '--service-cidr',
        '10.43.0.1 10.0.0.1',
        '--now',
        SOON,
      ],
      'deny',
      ['ServiceIp'],
    ],
    [
      'approves when no --service-cidr range holds a SAN',
      () => [
        '--csr',
        file('csr.json'),
        '--nodes',
        file('nodes.json'),
        '--service-cidr',
        'fd00:10:96::/112,10.96.0.0/12',
        '--service-cidr',
        '10.43.0.1',
        '--now',
        SOON,
      ],
      'approve',
      ['AutoApproved'],
    ],
    [
      'denies the 65th address of an older Node with 70 addresses to a newer Node',
      () => [
        '--csr',
        file('sixty-fifth.json'),
        '--nodes',
        file('many.json'),
        ...SVC,
        '--now',
        SOON,
      ],
      'deny',
      ['SanContested'],
    ],
    [
      'denies another node’s IP',
      () => ['--csr', file('stolen.json'), '--nodes', file('nodes.json'), '--now', SOON],
      'deny',
      ['SanNotOwned', 'SanContested'],
    ],
    [
      'denies client auth',
      () => ['--csr', file('client-auth.json'), '--nodes', file('nodes.json'), '--now', SOON],
      'deny',
      ['DisallowedUsages'],
    ],
    [
      'denies when --not-authorized',
      () => [
        '--csr',
        file('csr.json'),
        '--nodes',
        file('nodes.json'),
        '--not-authorized',
        '--now',
        SOON,
      ],
      'deny',
      ['NotAuthorized'],
    ],
    [
      'retries without --nodes, within the grace window',
      () => ['--csr', file('csr.json'), '--now', SOON],
      'retry',
      ['NodeNotFound'],
    ],
    [
      'denies NodeNotFound without --nodes after the grace window',
      () => ['--csr', file('csr.json'), '--now', LATE],
      'deny',
      ['NodeNotFound'],
    ],
    [
      'ignores a CSR for another signer',
      () => ['--csr', file('other-signer.json')],
      'ignore',
      ['SignerMismatch'],
    ],
  ];
  for (const [name, args, decision, expected] of decisions) {
    it(name, async () => {
      const output = decisionOf(await stampede(['check', ...args()]));
      assert.equal(output.decision, decision);
      assert.deepEqual(codes(output), expected);
      assert.equal(output.csr, 'csr-abc12');
    });
  }

  it('names the older Node that owns the 65th of its 70 addresses', async () => {
    const output = decisionOf(
      await stampede([
        'check',
        '--csr',
        file('sixty-fifth.json'),
        '--nodes',
        file('many.json'),
        ...SVC,
        '--now',
        SOON,
      ]),
    );
    assert.match(
      output.message ?? '',
      /IP SAN 10\.1\.0\.65 is also reported by Node node-old, which is older and owns it/,
    );
  });

  it('says how to give the Service ranges when they were not given', async () => {
    const output = decisionOf(
      await stampede(['check', '--csr', file('csr.json'), '--nodes', file('nodes.json')]),
    );
    assert.equal(output.fact, 'serviceRanges');
    assert.match(output.reasons[0]?.message ?? '', /--service-cidr/);
  });

  it('prints the extras: node, message, leavePending for a deny and fact for a retry', async () => {
    const deny = decisionOf(
      await stampede(['check', '--csr', file('client-auth.json'), '--nodes', file('nodes.json')]),
    );
    assert.equal(deny.node, 'node-a');
    assert.equal(deny.leavePending, false);
    assert.match(deny.message ?? '', /^DisallowedUsages: /);
    const retry = decisionOf(await stampede(['check', '--csr', file('csr.json'), '--now', SOON]));
    assert.equal(retry.fact, 'node');
  });

  it('applies a policy file (leave-pending)', async () => {
    const output = decisionOf(
      await stampede([
        'check',
        '--csr',
        file('client-auth.json'),
        '--nodes',
        file('nodes.json'),
        '--policy',
        file('leave-pending.yaml'),
      ]),
    );
    assert.equal(output.decision, 'deny');
    assert.equal(output.leavePending, true);
  });

  it('reads the CSR from stdin with --csr -', async () => {
    const output = decisionOf(
      await stampede(
        ['check', '--csr', '-', '--nodes', file('nodes.json'), ...SVC, '--now', SOON],
        JSON.stringify(csrObject(goodPem)),
      ),
    );
    assert.equal(output.decision, 'approve');
  });

  it('uses the real clock without --now (a CSR from 2026-01-01 is long past its grace window)', async () => {
    const output = decisionOf(await stampede(['check', '--csr', file('csr.json')]));
    assert.deepEqual([output.decision, codes(output)], ['deny', ['NodeNotFound']]);
  });

  const failures: [string, () => string[], RegExp][] = [
    ['exits 2 without --csr', () => ['check'], /check needs --csr FILE/],
    [
      'exits 2 on an unknown flag',
      () => ['check', '--csr', file('csr.json'), '--node', file('nodes.json')],
      /Unknown option '--node'/,
    ],
    [
      'exits 2 on a file that does not exist',
      () => ['check', '--csr', file('missing.json')],
      /cannot read .*missing\.json: ENOENT/,
    ],
    [
      'exits 2 on a file that is neither JSON nor YAML',
      () => ['check', '--csr', file('broken.json')],
      /broken\.json is neither JSON nor YAML/,
    ],
    [
      'exits 2 on an object that is not a CSR',
      () => ['check', '--csr', file('pod.json')],
      /not a CertificateSigningRequest/,
    ],
    [
      'exits 2 on a nodes file that holds no Node',
      () => ['check', '--csr', file('csr.json'), '--nodes', file('pod.json')],
      /not a Node/,
    ],
    [
      'exits 2 on an invalid policy and names each bad field',
      () => ['check', '--csr', file('csr.json'), '--policy', file('bad-policy.yaml')],
      /invalid policy .*bad-policy\.yaml: /,
    ],
    [
      'exits 2 on a --service-cidr that is no CIDR, naming it',
      () => ['check', '--csr', file('csr.json'), '--service-cidr', '10.96.0.0/12,10.96.0.0/33'],
      /--service-cidr: Service range 10\.96\.0\.0\/33 is not an IP address or CIDR/,
    ],
    [
      'exits 2 on an empty --service-cidr',
      () => ['check', '--csr', file('csr.json'), '--service-cidr', ' , '],
      /--service-cidr needs a CIDR or an IP address/,
    ],
    [
      'exits 2 on a bad --now',
      () => ['check', '--csr', file('csr.json'), '--now', 'tomorrow'],
      /--now tomorrow is not an RFC 3339 time/,
    ],
    [
      'exits 2 on --served-certificate without the CA to verify it',
      () => ['check', '--csr', file('csr.json'), '--served-certificate', file('ca.pem')],
      /--served-certificate needs --served-certificate-ca/,
    ],
    [
      'exits 2 on a served certificate that is not PEM',
      () => [
        'check',
        ...['--csr', file('csr.json'), '--served-certificate', file('nodes.json')],
        ...['--served-certificate-ca', file('ca.pem')],
      ],
      /holds no PEM certificate/,
    ],
    [
      'exits 2 when two inputs want stdin',
      () => ['check', '--csr', '-', '--nodes', '-'],
      /only one of/,
    ],
    ['exits 2 on an unknown command', () => ['approve-everything'], /unknown command/],
  ];
  for (const [name, args, pattern] of failures) {
    it(name, async () => {
      const result = await stampede(args());
      assert.equal(result.code, 2);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, pattern);
      assert.equal(result.stderr.trimEnd().split('\n').length, 1, 'one line on stderr');
    });
  }

  it('names both errors of an invalid policy on one line', async () => {
    const result = await stampede([
      'check',
      '--csr',
      file('csr.json'),
      '--policy',
      file('bad-policy.yaml'),
    ]);
    assert.match(result.stderr, /onViolation: /);
    assert.match(result.stderr, /maxSAN: unknown field/);
  });

  it('explains a cross-field policy error', async () => {
    const result = await stampede([
      'check',
      '--csr',
      file('csr.json'),
      '--policy',
      file('lists-only.yaml'),
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /ownership\.mode: allow-lists-only needs at least one of/);
  });

  it('prints help with --help and exits 0', async () => {
    const result = await stampede(['check', '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /stampede check --csr FILE/);
    assert.match(result.stdout, /--service-cidr CIDR,\.\.\./);
  });

  it('prints usage on stderr and exits 2 without a command', async () => {
    const result = await stampede([]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /usage: stampede/);
  });
});

describe('stampede demo', () => {
  it('runs the samples and prints a table and one JSON decision per sample', async () => {
    const result = await stampede(['demo', '--offline']);
    assert.equal(result.code, 0, result.stderr);
    for (const [sample, decision] of [
      ['valid ECDSA P-256 request from node-a', 'approve'],
      ['valid RSA-2048 request with key encipherment', 'approve'],
      ['node-a asks for node-b’s IP 10.0.0.2', 'deny'],
      ['node-a asks for client auth too', 'deny'],
      ['node-a asks for the kubernetes Service IP 10.96.0.1', 'deny'],
      ['a CSR for another signer', 'ignore'],
      ['node-z, whose Node does not exist yet', 'retry'],
    ]) {
      assert.match(result.stdout, new RegExp(`${sample}\\s+${decision}`));
    }
    const json = result.stdout.split('\n').filter(line => line.startsWith('{'));
    assert.equal(json.length, 9);
    assert.match(result.stdout, /Service IP 10\.96\.0\.1\s+deny\s+ServiceIp, SanNotOwned/);
    for (const line of json)
      assert.ok(
        ['approve', 'deny', 'ignore', 'retry'].includes(
          (JSON.parse(line) as { decision: string }).decision,
        ),
      );
  });
});
