import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { kubeletCsr } from '@stampede/testing';
import {
  addressIndex,
  csrRequestFromObject,
  nodeFactFromObject,
  nodeFactsFromObject,
  parseKubeTimestamp,
} from './kube-object.ts';
import type { CsrRequest } from './types.ts';

const pem = kubeletCsr({ nodeName: 'node-a', dnsNames: ['node-a'], ips: ['10.0.0.1'] }).pemText;

/** What `kubectl get csr csr-abc12 -o json` prints for a pending kubelet-serving CSR. */
function csrObject(overrides: { spec?: object; status?: object; metadata?: object } = {}) {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: {
      name: 'csr-abc12',
      uid: '9d3f1c9e-1111-4222-8333-444455556666',
      resourceVersion: '4711',
      creationTimestamp: '2026-01-01T12:00:00Z',
      ...overrides.metadata,
    },
    spec: {
      request: Buffer.from(pem).toString('base64'),
      signerName: 'kubernetes.io/kubelet-serving',
      usages: ['digital signature', 'server auth'],
      username: 'system:node:node-a',
      uid: 'c0ffee00-0000-4000-8000-000000000000',
      groups: ['system:nodes', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=abc'] },
      ...overrides.spec,
    },
    status: { ...overrides.status },
  };
}

const nodeObject = (
  name: string,
  addresses: { type: string; address: string }[],
  created = '2025-06-01T00:00:00Z',
) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, uid: `uid-${name}`, creationTimestamp: created },
  status: { addresses },
});

describe('parseKubeTimestamp', () => {
  const cases: [string, number | undefined][] = [
    ['1970-01-01T00:00:00Z', 0],
    ['2026-01-01T12:00:00Z', Date.UTC(2026, 0, 1, 12)],
    ['2024-02-29T23:59:59Z', Date.UTC(2024, 1, 29, 23, 59, 59)],
    ['2026-01-01T12:00:00.123456Z', Date.UTC(2026, 0, 1, 12, 0, 0, 123)],
    ['2026-01-01T14:00:00+02:00', Date.UTC(2026, 0, 1, 12)],
    ['2026-01-01T07:30:00-04:30', Date.UTC(2026, 0, 1, 12)],
    ['2023-02-29T00:00:00Z', undefined],
    ['2026-13-01T00:00:00Z', undefined],
    ['2026-01-01T24:00:00Z', undefined],
    ['2026-01-01 12:00:00Z', undefined],
    ['2026-01-01T12:00:00', undefined],
    ['yesterday', undefined],
  ];
  for (const [text, expected] of cases) {
    it(`reads ${text} as ${String(expected)}`, () => {
      assert.equal(parseKubeTimestamp(text), expected);
    });
  }
  it('agrees with Date for any instant between 1900 and 2200', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) }), ms => {
        const text = new Date(ms).toISOString();
        assert.equal(parseKubeTimestamp(text), ms);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('csrRequestFromObject', () => {
  it('maps a pending kubelet-serving CSR, decoding spec.request', () => {
    const mapped = csrRequestFromObject(csrObject());
    assert.ok(mapped.ok, mapped.ok ? '' : mapped.error);
    const r = mapped.value;
    assert.equal(new TextDecoder().decode(r.request), pem);
    assert.equal(r.name, 'csr-abc12');
    assert.equal(r.uid, '9d3f1c9e-1111-4222-8333-444455556666');
    assert.equal(r.requesterUid, 'c0ffee00-0000-4000-8000-000000000000');
    assert.equal(r.username, 'system:node:node-a');
    assert.deepEqual(r.groups, ['system:nodes', 'system:authenticated']);
    assert.deepEqual(r.usages, ['digital signature', 'server auth']);
    assert.deepEqual(r.extra, { 'authentication.kubernetes.io/credential-id': ['X509SHA256=abc'] });
    assert.equal(r.createdAtMs, Date.UTC(2026, 0, 1, 12));
    assert.deepEqual([r.conditionTypes, r.hasCertificate, r.deleting], [[], false, false]);
    assert.equal(r.expirationSeconds, undefined);
  });

  const flags: [string, Parameters<typeof csrObject>[0], (r: CsrRequest) => unknown, unknown][] = [
    [
      'reads condition types',
      { status: { conditions: [{ type: 'Approved', status: 'True' }] } },
      r => r.conditionTypes,
      ['Approved'],
    ],
    [
      'reads an issued certificate',
      { status: { certificate: 'LS0tLS1CRUdJTg==' } },
      r => r.hasCertificate,
      true,
    ],
    [
      'treats an empty certificate as none',
      { status: { certificate: '' } },
      r => r.hasCertificate,
      false,
    ],
    [
      'reads a deletion timestamp',
      { metadata: { deletionTimestamp: '2026-01-01T12:05:00Z' } },
      r => r.deleting,
      true,
    ],
    [
      'reads expirationSeconds',
      { spec: { expirationSeconds: 3600 } },
      r => r.expirationSeconds,
      3600,
    ],
    ['defaults missing groups to none', { spec: { groups: undefined } }, r => r.groups, []],
    [
      'keeps a null status as no status',
      { status: { conditions: null } },
      r => r.conditionTypes,
      [],
    ],
  ];
  for (const [name, overrides, read, expected] of flags) {
    it(name, () => {
      const mapped = csrRequestFromObject(csrObject(overrides));
      assert.ok(mapped.ok, mapped.ok ? '' : mapped.error);
      assert.deepEqual(read(mapped.value), expected);
    });
  }

  const errors: [string, unknown, RegExp][] = [
    ['refuses something that is not an object', 'csr', /not a CertificateSigningRequest/],
    ['refuses another kind', { ...csrObject(), kind: 'Node' }, /kind/],
    [
      'refuses a CSR without spec.request',
      csrObject({ spec: { request: undefined } }),
      /spec\.request/,
    ],
    [
      'refuses a spec.request that is not base64',
      csrObject({ spec: { request: '%%%' } }),
      /spec\.request is not base64/,
    ],
    [
      'refuses a missing creationTimestamp',
      csrObject({ metadata: { creationTimestamp: undefined } }),
      /creationTimestamp/,
    ],
    [
      'refuses a bad creationTimestamp',
      csrObject({ metadata: { creationTimestamp: 'soon' } }),
      /not an RFC 3339 time/,
    ],
  ];
  for (const [name, input, pattern] of errors) {
    it(name, () => {
      const mapped = csrRequestFromObject(input);
      assert.ok(!mapped.ok);
      assert.match(mapped.error, pattern);
    });
  }
});

describe('nodeFactFromObject and nodeFactsFromObject', () => {
  const a = nodeObject('node-a', [{ type: 'InternalIP', address: '10.0.0.1' }]);
  const b = nodeObject(
    'node-b',
    [{ type: 'InternalIP', address: '10.0.0.2' }],
    '2025-01-01T00:00:00Z',
  );

  it('maps a Node', () => {
    assert.deepEqual(nodeFactFromObject(a), {
      ok: true,
      value: {
        name: 'node-a',
        createdAtMs: Date.UTC(2025, 5, 1),
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      },
    });
  });
  it('maps a Node without status to one without addresses', () => {
    const mapped = nodeFactFromObject({
      kind: 'Node',
      metadata: { name: 'n', creationTimestamp: '2025-01-01T00:00:00Z' },
    });
    assert.ok(mapped.ok);
    assert.deepEqual(mapped.value.addresses, []);
  });
  it('reads a single Node as a list of one', () => {
    const mapped = nodeFactsFromObject(a);
    assert.ok(mapped.ok);
    assert.deepEqual(
      mapped.value.map(n => n.name),
      ['node-a'],
    );
  });
  it('reads a v1 List of Nodes (kubectl get nodes -o json)', () => {
    const mapped = nodeFactsFromObject({
      apiVersion: 'v1',
      kind: 'List',
      items: [a, b],
      metadata: {},
    });
    assert.ok(mapped.ok);
    assert.deepEqual(
      mapped.value.map(n => n.name),
      ['node-a', 'node-b'],
    );
  });
  it('reads a NodeList', () => {
    const mapped = nodeFactsFromObject({ kind: 'NodeList', items: [a] });
    assert.ok(mapped.ok);
  });
  it('names the bad item of a List', () => {
    const mapped = nodeFactsFromObject({ kind: 'List', items: [a, { kind: 'Pod', metadata: {} }] });
    assert.ok(!mapped.ok);
    assert.match(mapped.error, /^items\[1\]: not a Node/);
  });
  it('refuses a CSR given as a Node', () => {
    assert.ok(!nodeFactFromObject(csrObject()).ok);
  });

  it('indexes every Node by its normalised addresses and names', () => {
    const nodes = [
      a,
      b,
      nodeObject('node-c', [
        { type: 'ExternalIP', address: '::ffff:10.0.0.2' },
        { type: 'InternalDNS', address: 'Shared.Example.' },
      ]),
    ]
      .map(n => nodeFactFromObject(n))
      .map(m => (m.ok ? m.value : assert.fail()));
    const index = addressIndex(nodes);
    assert.deepEqual(
      index('ip:10.0.0.2').map(c => c.node),
      ['node-b', 'node-c'],
    );
    assert.deepEqual(
      index('dns:shared.example').map(c => c.node),
      ['node-c'],
    );
    assert.deepEqual(
      index('dns:node-a').map(c => c.node),
      ['node-a'],
    );
    assert.deepEqual(index('ip:10.9.9.9'), []);
  });

  it('indexes every address of a Node that reports more than 64 (there is no cap)', () => {
    const many = Array.from({ length: 70 }, (_, i) => ({
      type: 'InternalIP',
      address: `10.1.0.${i + 1}`,
    }));
    const node = nodeFactFromObject(nodeObject('node-big', many));
    assert.ok(node.ok);
    const index = addressIndex([node.value]);
    for (const i of [1, 64, 65, 70]) {
      assert.deepEqual(
        index(`ip:10.1.0.${i}`).map(c => c.node),
        ['node-big'],
        `address ${i}`,
      );
    }
  });

  it('indexes a zero-padded Hostname under the address the kubelet reads', () => {
    const node = nodeFactFromObject(
      nodeObject('node-z', [{ type: 'Hostname', address: '010.000.000.010' }]),
    );
    assert.ok(node.ok);
    const index = addressIndex([node.value]);
    assert.deepEqual(
      index('ip:10.0.0.10').map(c => c.node),
      ['node-z'],
    );
    assert.deepEqual(index('dns:010.000.000.010'), []);
  });
});
