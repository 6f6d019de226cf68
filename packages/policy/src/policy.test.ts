import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultPolicy, loadPolicy } from './policy.ts';
import type { Policy } from './policy.ts';

function load(input: unknown): Policy {
  const result = loadPolicy(input);
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  return result.policy;
}

function errorsOf(input: unknown): readonly string[] {
  const result = loadPolicy(input);
  assert.ok(!result.ok, 'expected the policy to be refused');
  return result.errors;
}

describe('loadPolicy defaults', () => {
  it('loads an empty object as the default policy', () => {
    assert.deepEqual(load({}), defaultPolicy);
  });
  it('treats undefined and null as "all defaults"', () => {
    assert.deepEqual(load(undefined), defaultPolicy);
    assert.deepEqual(load(null), defaultPolicy);
  });

  const p = defaultPolicy;
  const defaults: [string, () => void][] = [
    [
      'requires no evidence beyond the Node by default',
      () => {
        assert.deepEqual(p.evidence, { inventory: false, servedCertificate: undefined });
      },
    ],
    [
      'denies violations by default',
      () => {
        assert.equal(p.onViolation, 'deny');
      },
    ],
    [
      'caps the request at 64 KiB',
      () => {
        assert.equal(p.maxRequestBytes, 65536);
      },
    ],
    [
      'allows at most 32 SANs',
      () => {
        assert.equal(p.maxSans, 32);
      },
    ],
    [
      'bounds expiration to 600 s … 367 days',
      () => {
        assert.deepEqual(p.expirationSeconds, { min: 600, max: 31_708_800 });
      },
    ],
    [
      'allows the three NIST curves',
      () => {
        assert.deepEqual([...p.keys.ecdsaCurves], ['P-256', 'P-384', 'P-521']);
      },
    ],
    [
      'allows RSA 2048 to 8192 bits',
      () => {
        assert.deepEqual(p.keys.rsa, { enabled: true, minBits: 2048, maxBits: 8192 });
      },
    ],
    [
      'allows Ed25519',
      () => {
        assert.equal(p.keys.ed25519, true);
      },
    ],
    [
      'allows the two kubelet usage sets',
      () => {
        assert.deepEqual(p.allowedUsageSets, [
          'digital signature,server auth',
          'digital signature,key encipherment,server auth',
        ]);
      },
    ],
    [
      'checks SubjectAccessReview on selfnodeserver',
      () => {
        assert.deepEqual(p.subjectAccessReview, { enabled: true, subresource: 'selfnodeserver' });
      },
    ],
    [
      'uses cluster.local as the cluster domain',
      () => {
        assert.equal(p.clusterDomain, 'cluster.local');
      },
    ],
    [
      'reserves localhost, the kubernetes Service names and the cloud metadata name',
      () => {
        assert.deepEqual(
          [...p.reserved.names],
          [
            'localhost',
            'kubernetes',
            'kubernetes.default',
            'kubernetes.default.svc',
            'metadata.google.internal',
          ],
        );
      },
    ],
    [
      'reserves *.localhost, *.svc and *.svc.<clusterDomain>',
      () => {
        assert.deepEqual(p.reserved.nameSuffixes, ['.localhost', '.svc', '.svc.cluster.local']);
      },
    ],
    [
      'reserves the IPv6 cloud metadata address, as a built-in',
      () => {
        assert.deepEqual(
          p.reserved.ips.map(r => [r.cidr.text, r.source]),
          [['fd00:ec2::254/128', 'built-in']],
        );
      },
    ],
    [
      'reserves the cluster’s Service IP ranges',
      () => {
        assert.equal(p.reserved.serviceRanges, true);
      },
    ],
    [
      'denies IPv6 forms that embed an IPv4 address',
      () => {
        assert.equal(p.reserved.embeddedIpv4, true);
      },
    ],
    [
      'checks ownership against Node addresses',
      () => {
        assert.equal(p.ownership.mode, 'node-addresses');
      },
    ],
    [
      'configures no allow-list',
      () => {
        assert.equal(p.ownership.allowedIpCidrs, undefined);
        assert.equal(p.ownership.allowedDnsSuffixes, undefined);
        assert.equal(p.ownership.allowedDnsPattern, undefined);
      },
    ],
    [
      'waits 600 s for a missing Node',
      () => {
        assert.equal(p.nodeGraceSeconds, 600);
      },
    ],
  ];
  for (const [name, assertion] of defaults) it(name, assertion);
});

describe('loadPolicy compiles what it can at load', () => {
  it('derives the reserved suffix from a custom cluster domain', () => {
    const p = load({ clusterDomain: 'Corp.Example.' });
    assert.equal(p.clusterDomain, 'corp.example');
    assert.ok(p.reserved.nameSuffixes.includes('.svc.corp.example'));
  });
  it('compiles CIDRs once, canonically', () => {
    const p = load({ ownership: { allowedIpCidrs: ['10.0.0.0/8', 'FD00::/8'] } });
    assert.deepEqual(
      p.ownership.allowedIpCidrs?.map(c => c.text),
      ['10.0.0.0/8', 'fd00::/8'],
    );
  });
  it('anchors the DNS pattern and makes it case-insensitive', () => {
    const p = load({ ownership: { allowedDnsPattern: '[a-z0-9-]+\\.compute\\.internal' } });
    const re = p.ownership.allowedDnsPattern;
    assert.ok(re);
    assert.ok(re.test('ip-10-0-0-1.compute.internal'));
    assert.ok(re.test('IP-10-0-0-1.Compute.Internal'));
    assert.ok(!re.test('evil.example.com/ip-10-0-0-1.compute.internal'));
    assert.ok(!re.test('ip-10-0-0-1.compute.internal.evil.com'));
  });
  it('normalises DNS suffixes and drops a leading dot', () => {
    const p = load({ ownership: { allowedDnsSuffixes: ['.Compute.Internal.'] } });
    assert.deepEqual(p.ownership.allowedDnsSuffixes, ['compute.internal']);
  });
  it('reads single reserved IPs as host prefixes, after the built-in one', () => {
    const p = load({ reserved: { ips: ['10.96.0.1', '10.96.0.0/12'] } });
    assert.deepEqual(
      p.reserved.ips.map(r => [r.cidr.text, r.source]),
      [
        ['fd00:ec2::254/128', 'built-in'],
        ['10.96.0.1/32', 'reserved.ips'],
        ['10.96.0.0/12', 'reserved.ips'],
      ],
    );
  });
  it('adds configured reserved names and suffixes to the built-ins, never replacing them', () => {
    const p = load({ reserved: { names: ['Vault.Example.'], nameSuffixes: ['.internal'] } });
    assert.ok(p.reserved.names.has('localhost'));
    assert.ok(p.reserved.names.has('metadata.google.internal'));
    assert.ok(p.reserved.names.has('vault.example'));
    assert.deepEqual(p.reserved.nameSuffixes, [
      '.localhost',
      '.svc',
      '.internal',
      '.svc.cluster.local',
    ]);
  });
  it('removes only the built-ins named in reserved.removeBuiltIns, in any spelling', () => {
    const p = load({
      reserved: {
        removeBuiltIns: {
          names: ['Metadata.Google.Internal.'],
          nameSuffixes: ['.svc'],
          ips: ['FD00:EC2:0::254/128'],
        },
      },
    });
    assert.ok(!p.reserved.names.has('metadata.google.internal'));
    assert.ok(p.reserved.names.has('kubernetes'));
    assert.deepEqual(p.reserved.nameSuffixes, ['.localhost', '.svc.cluster.local']);
    assert.deepEqual(p.reserved.ips, []);
  });
  it('keeps a removed built-in that is also configured as a reserved entry', () => {
    const p = load({
      reserved: { names: ['kubernetes'], removeBuiltIns: { names: ['kubernetes'] } },
    });
    assert.ok(p.reserved.names.has('kubernetes'));
  });
  it('switches the Service ranges and the embedded-IPv4 rule off', () => {
    const p = load({ reserved: { serviceRanges: false, embeddedIpv4: false } });
    assert.deepEqual([p.reserved.serviceRanges, p.reserved.embeddedIpv4], [false, false]);
  });
  it('accepts allow-lists-only with one allow-list', () => {
    const p = load({ ownership: { mode: 'allow-lists-only', allowedIpCidrs: ['10.0.0.0/8'] } });
    assert.equal(p.ownership.mode, 'allow-lists-only');
  });
  it('accepts a policy that allows only the two-usage set', () => {
    const p = load({ allowedUsageSets: [['server auth', 'digital signature']] });
    assert.deepEqual(p.allowedUsageSets, ['digital signature,server auth']);
  });
  it('accepts leave-pending', () => {
    assert.equal(load({ onViolation: 'leave-pending' }).onViolation, 'leave-pending');
  });
});

describe('loadPolicy refuses a bad field and names it', () => {
  const cases: [string, unknown, RegExp][] = [
    ['a policy that is not an object', 42, /^\(root\): .*expected object/],
    ['an unknown top-level field', { maxSAN: 10 }, /^maxSAN: unknown field$/],
    [
      'an unknown nested field',
      { ownership: { allowedIPCidrs: ['10.0.0.0/8'] } },
      /^ownership\.allowedIPCidrs: unknown field$/,
    ],
    [
      'an unknown key-type field',
      { keys: { rsa: { minbits: 4096 } } },
      /^keys\.rsa\.minbits: unknown field$/,
    ],
    ['an unknown onViolation', { onViolation: 'skip' }, /^onViolation: /],
    [
      'an evidence source it does not know',
      { evidence: { require: ['managedFields'] } },
      /^evidence\.require\[0\]: /,
    ],
    [
      'a served certificate accepted where the inventory is not required',
      { evidence: { servedCertificate: { issuedAfter: '2026-01-01T00:00:00Z' } } },
      /^evidence\.servedCertificate: stands in for the inventory/,
    ],
    [
      'a served certificate with no time since which it counts',
      { evidence: { require: ['inventory'], servedCertificate: {} } },
      /^evidence\.servedCertificate\.issuedAfter: /,
    ],
    [
      'a served certificate issued after a time that is not RFC 3339',
      { evidence: { require: ['inventory'], servedCertificate: { issuedAfter: 'yesterday' } } },
      /^evidence\.servedCertificate\.issuedAfter: /,
    ],
    [
      'a served certificate maxAgeDays of zero',
      {
        evidence: {
          require: ['inventory'],
          servedCertificate: { issuedAfter: '2026-01-01T00:00:00Z', maxAgeDays: 0 },
        },
      },
      /^evidence\.servedCertificate\.maxAgeDays: /,
    ],
    ['a maxSans of zero', { maxSans: 0 }, /^maxSans: /],
    ['a fractional maxSans', { maxSans: 1.5 }, /^maxSans: /],
    ['a maxRequestBytes above 64 KiB', { maxRequestBytes: 65537 }, /^maxRequestBytes: /],
    [
      'a minimum expiration below 600 s',
      { expirationSeconds: { min: 599 } },
      /^expirationSeconds\.min: /,
    ],
    [
      'a maximum expiration below the minimum',
      { expirationSeconds: { min: 7200, max: 3600 } },
      /^expirationSeconds\.max: /,
    ],
    ['an unknown curve', { keys: { ecdsaCurves: ['P-224'] } }, /^keys\.ecdsaCurves\[0\]: /],
    ['RSA below 2048 bits', { keys: { rsa: { minBits: 1024 } } }, /^keys\.rsa\.minBits: /],
    ['RSA above 8192 bits', { keys: { rsa: { maxBits: 16384 } } }, /^keys\.rsa\.maxBits: /],
    [
      'RSA bounds the wrong way round',
      { keys: { rsa: { minBits: 4096, maxBits: 3072 } } },
      /^keys\.rsa\.maxBits: /,
    ],
    [
      'a policy with no key type',
      { keys: { ecdsaCurves: [], rsa: { enabled: false }, ed25519: false } },
      /^keys: /,
    ],
    [
      'a usage set with client auth',
      { allowedUsageSets: [['digital signature', 'server auth', 'client auth']] },
      /^allowedUsageSets\[0\]: /,
    ],
    [
      'a usage set with a duplicate',
      { allowedUsageSets: [['server auth', 'server auth', 'digital signature']] },
      /^allowedUsageSets\[0\]: /,
    ],
    ['an empty list of usage sets', { allowedUsageSets: [] }, /^allowedUsageSets: /],
    [
      'a non-boolean SAR switch',
      { subjectAccessReview: { enabled: 'yes' } },
      /^subjectAccessReview\.enabled: /,
    ],
    [
      'a SAR subresource with a slash',
      { subjectAccessReview: { subresource: 'a/b' } },
      /^subjectAccessReview\.subresource: /,
    ],
    [
      'a cluster domain with a wildcard',
      { clusterDomain: '*.local' },
      /^clusterDomain: .*wildcard/,
    ],
    [
      'a reserved name with an underscore',
      { reserved: { names: ['ok', 'bad_name'] } },
      /^reserved\.names\[1\]: /,
    ],
    [
      'a reserved IP that is not one',
      { reserved: { ips: ['10.96.0.300'] } },
      /^reserved\.ips\[0\]: /,
    ],
    [
      'removing a reserved name that is not a built-in, and lists the built-ins',
      { reserved: { removeBuiltIns: { names: ['localhost', 'example.com'] } } },
      /^reserved\.removeBuiltIns\.names\[1\]: "example\.com" is not a built-in reserved name \(localhost, kubernetes, .*metadata\.google\.internal\)$/,
    ],
    [
      'removing a suffix that is not a built-in',
      { reserved: { removeBuiltIns: { nameSuffixes: ['svc.cluster.local'] } } },
      /^reserved\.removeBuiltIns\.nameSuffixes\[0\]: .*not a built-in reserved name suffix/,
    ],
    [
      'removing a reserved IP that is not a built-in',
      { reserved: { removeBuiltIns: { ips: ['169.254.169.254'] } } },
      /^reserved\.removeBuiltIns\.ips\[0\]: .*not a built-in reserved IP \(fd00:ec2::254\)/,
    ],
    [
      'an unknown field under reserved.removeBuiltIns',
      { reserved: { removeBuiltIns: { cidrs: [] } } },
      /^reserved\.removeBuiltIns\.cidrs: unknown field$/,
    ],
    [
      'a Service range switch that is not a boolean',
      { reserved: { serviceRanges: 'yes' } },
      /^reserved\.serviceRanges: /,
    ],
    [
      'an embedded-IPv4 switch that is not a boolean',
      { reserved: { embeddedIpv4: 1 } },
      /^reserved\.embeddedIpv4: /,
    ],
    [
      'a CIDR with host bits',
      { ownership: { allowedIpCidrs: ['10.0.0.1/8'] } },
      /^ownership\.allowedIpCidrs\[0\]: .*did you mean 10\.0\.0\.0\/8/,
    ],
    [
      'a CIDR without a length',
      { ownership: { allowedIpCidrs: ['10.0.0.0'] } },
      /^ownership\.allowedIpCidrs\[0\]: /,
    ],
    [
      'an empty CIDR allow-list',
      { ownership: { allowedIpCidrs: [] } },
      /^ownership\.allowedIpCidrs: /,
    ],
    [
      'an empty DNS suffix allow-list',
      { ownership: { allowedDnsSuffixes: [] } },
      /^ownership\.allowedDnsSuffixes: /,
    ],
    [
      'a DNS pattern that does not compile',
      { ownership: { allowedDnsPattern: '(' } },
      /^ownership\.allowedDnsPattern: not a valid regular expression/,
    ],
    ['an unknown ownership mode', { ownership: { mode: 'dns' } }, /^ownership\.mode: /],
    [
      'allow-lists-only without an allow-list',
      { ownership: { mode: 'allow-lists-only' } },
      /^ownership\.mode: allow-lists-only needs at least one of/,
    ],
    ['a negative grace window', { nodeGraceSeconds: -1 }, /^nodeGraceSeconds: /],
    ['a grace window of a string', { nodeGraceSeconds: '600' }, /^nodeGraceSeconds: /],
  ];
  for (const [name, input, pattern] of cases) {
    it(`refuses ${name}`, () => {
      const errors = errorsOf(input);
      assert.ok(
        errors.some(e => pattern.test(e)),
        `no error matched ${String(pattern)} in:\n${errors.join('\n')}`,
      );
    });
  }

  it('reports every bad field, not only the first', () => {
    const errors = errorsOf({
      maxSans: 0,
      onViolation: 'x',
      typo: true,
      ownership: { allowedIpCidrs: ['x'] },
    });
    for (const field of ['maxSans', 'onViolation', 'typo', 'ownership.allowedIpCidrs[0]']) {
      assert.ok(
        errors.some(e => e.startsWith(`${field}: `)),
        `${field} missing from ${errors.join('; ')}`,
      );
    }
  });
});
