import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CertificateAuthority, generateKeyPair } from '@stampede/harness';
import { defaultPolicy } from '@stampede/policy';
import { loadConfig } from './config.ts';

const files: Record<string, string> = {
  'good.yaml': 'nodeGraceSeconds: 5\n',
  'bad.yaml': 'maxSans: -1\nunknownField: true\n',
  'broken.yaml': 'a: [unclosed\n',
  'inventory.yaml': 'evidence:\n  require: [inventory]\n',
  'ca.pem': 'CA PEM',
  token: 'secret\n',
  'empty-token': ' \n',
};
const servingCa = CertificateAuthority.create('kubelet-serving-test-ca');
files['serving-ca.pem'] = servingCa.certPem;
files['leaf.pem'] = servingCa.issue(
  { subject: { commonName: 'system:node:node-a' }, extKeyUsages: ['serverAuth'] },
  generateKeyPair().spki,
).certPem;
files['served.yaml'] =
  'evidence:\n  require: [inventory]\n  servedCertificate:\n    issuedAfter: 2026-12-01T00:00:00Z\n';
const readFile = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw new Error(`ENOENT: ${path}`);
  return text;
};
const errorsOf = (env: Record<string, string>): readonly string[] => {
  const result = loadConfig(env, readFile);
  return result.ok ? [] : result.errors;
};

describe('loadConfig', () => {
  it('uses the default policy and defaults when only REDIS_URL is set', () => {
    const result = loadConfig({ REDIS_URL: 'redis://r:6379' }, readFile);
    assert.ok(result.ok);
    assert.equal(result.config.policy, defaultPolicy);
    assert.equal(result.config.concurrency, 10);
    assert.equal(result.config.rateLimitPerSecond, 20);
    assert.deepEqual(result.config.backoff, { initialMs: 1_000, maxMs: 30_000 });
  });

  it('loads the policy file', () => {
    const result = loadConfig({ REDIS_URL: 'redis://r', POLICY_FILE: 'good.yaml' }, readFile);
    assert.equal(result.ok && result.config.policy.nodeGraceSeconds, 5);
  });

  it('turns a rate limit of 0 into no limit', () => {
    const result = loadConfig(
      { REDIS_URL: 'redis://r', RATE_LIMIT_JOBS_PER_SECOND: '0' },
      readFile,
    );
    assert.equal(result.ok && result.config.rateLimitPerSecond, undefined);
  });

  it('names every bad variable and every bad policy field together', () => {
    const errors = errorsOf({ CONCURRENCY: '0', POLICY_FILE: 'bad.yaml' });
    assert.ok(
      errors.some(e => e.startsWith('REDIS_URL: ')),
      errors.join('\n'),
    );
    assert.ok(
      errors.some(e => e.startsWith('CONCURRENCY: ')),
      errors.join('\n'),
    );
    assert.ok(
      errors.some(e => e.startsWith('POLICY_FILE bad.yaml: maxSans')),
      errors.join('\n'),
    );
    assert.ok(
      errors.some(e => e.includes('unknownField: unknown field')),
      errors.join('\n'),
    );
  });

  it('reports an unreadable or unparseable policy file by name', () => {
    assert.match(
      errorsOf({ REDIS_URL: 'redis://r', POLICY_FILE: 'missing.yaml' })[0] ?? '',
      /POLICY_FILE missing\.yaml: ENOENT/,
    );
    assert.match(
      errorsOf({ REDIS_URL: 'redis://r', POLICY_FILE: 'broken.yaml' })[0] ?? '',
      /POLICY_FILE broken\.yaml: /,
    );
  });

  it('refuses a backoff cap below the first delay', () => {
    assert.deepEqual(
      errorsOf({ REDIS_URL: 'redis://r', BACKOFF_INITIAL_MS: '5000', BACKOFF_MAX_MS: '1000' }),
      ['BACKOFF_MAX_MS: must be at least BACKOFF_INITIAL_MS'],
    );
  });
});

describe('loadConfig: the inventory webhook matches the policy', () => {
  const inventoryPolicy = { REDIS_URL: 'redis://r', POLICY_FILE: 'inventory.yaml' };
  const url = 'https://inventory.example:8443/review';
  const cases: [string, Record<string, string>, RegExp | undefined][] = [
    [
      'takes an https URL, its CA and a timeout',
      { ...inventoryPolicy, INVENTORY_URL: url, INVENTORY_CA_FILE: 'ca.pem' },
      undefined,
    ],
    [
      'refuses a policy that requires the inventory without a URL',
      inventoryPolicy,
      /^INVENTORY_URL: required/,
    ],
    [
      'refuses a URL the policy does not use (SANs would go unchecked)',
      { REDIS_URL: 'redis://r', INVENTORY_URL: url },
      /^INVENTORY_URL: set, but the policy/,
    ],
    [
      'refuses a plain http URL',
      { ...inventoryPolicy, INVENTORY_URL: 'http://inventory.example/' },
      /^INVENTORY_URL: must be an https/,
    ],
    [
      'refuses a client certificate without its key',
      {
        ...inventoryPolicy,
        INVENTORY_URL: url,
        INVENTORY_CA_FILE: 'ca.pem',
        INVENTORY_CLIENT_CERT_FILE: 'ca.pem',
      },
      /^INVENTORY_CLIENT_KEY_FILE/,
    ],
    [
      'refuses an inventory without a CA of its own (a public CA would be trusted)',
      { ...inventoryPolicy, INVENTORY_URL: url },
      /^INVENTORY_CA_FILE: required/,
    ],
    [
      'takes a bearer token file that holds a token',
      {
        ...inventoryPolicy,
        INVENTORY_URL: url,
        INVENTORY_CA_FILE: 'ca.pem',
        INVENTORY_TOKEN_FILE: 'token',
      },
      undefined,
    ],
    [
      'refuses an empty token file at start',
      {
        ...inventoryPolicy,
        INVENTORY_URL: url,
        INVENTORY_CA_FILE: 'ca.pem',
        INVENTORY_TOKEN_FILE: 'empty-token',
      },
      /^INVENTORY_TOKEN_FILE empty-token: empty/,
    ],
    [
      'names a token file it cannot read',
      {
        ...inventoryPolicy,
        INVENTORY_URL: url,
        INVENTORY_CA_FILE: 'ca.pem',
        INVENTORY_TOKEN_FILE: 'nope',
      },
      /ENOENT: nope/,
    ],
    [
      'names a CA file it cannot read',
      { ...inventoryPolicy, INVENTORY_URL: url, INVENTORY_CA_FILE: 'gone.pem' },
      /ENOENT: gone\.pem/,
    ],
  ];
  for (const [name, env, error] of cases) {
    it(name, () => {
      const result = loadConfig(env, readFile);
      if (error === undefined) {
        assert.ok(result.ok, result.ok ? '' : result.errors.join('; '));
        assert.equal(result.config.inventory?.url.href, url);
        assert.equal(result.config.inventory.caPem, 'CA PEM');
        assert.equal(result.config.inventory.timeoutMs, 2_000);
      } else {
        assert.match(result.ok ? '(loaded)' : result.errors.join('; '), error);
      }
    });
  }
});

describe('loadConfig: reading served certificates matches the policy', () => {
  const inventory = {
    REDIS_URL: 'redis://r',
    INVENTORY_URL: 'https://inventory.example/review',
    INVENTORY_CA_FILE: 'ca.pem',
  };
  const served = {
    ...inventory,
    POLICY_FILE: 'served.yaml',
    SERVED_CERTIFICATE_PREVIEW: 'accept-known-wrong-approvals',
  };
  const cases: [string, Record<string, string>, RegExp | undefined][] = [
    [
      'refuses served certificates as evidence while they are suspended',
      {
        ...inventory,
        POLICY_FILE: 'served.yaml',
        SERVED_CERTIFICATE_CA_FILE: 'serving-ca.pem',
      },
      /^evidence\.servedCertificate: suspended/,
    ],
    [
      'takes the kubelet-serving CA, with port 10250 and a 2 s timeout by default',
      { ...served, SERVED_CERTIFICATE_CA_FILE: 'serving-ca.pem' },
      undefined,
    ],
    [
      'refuses a policy that accepts served certificates without the CA',
      served,
      /^SERVED_CERTIFICATE_CA_FILE: required/,
    ],
    [
      'refuses the CA where the policy does not accept served certificates',
      { ...inventory, POLICY_FILE: 'inventory.yaml', SERVED_CERTIFICATE_CA_FILE: 'serving-ca.pem' },
      /^SERVED_CERTIFICATE_CA_FILE: set, but the policy/,
    ],
    [
      'refuses a CA file that holds no certificate',
      { ...served, SERVED_CERTIFICATE_CA_FILE: 'ca.pem' },
      /^SERVED_CERTIFICATE_CA_FILE: /,
    ],
    [
      'refuses a CA file that holds a leaf certificate',
      { ...served, SERVED_CERTIFICATE_CA_FILE: 'leaf.pem' },
      /^SERVED_CERTIFICATE_CA_FILE: not a CA certificate/,
    ],
    [
      'refuses a timeout above 5 s (a node would choose how long a worker waits)',
      {
        ...served,
        SERVED_CERTIFICATE_CA_FILE: 'serving-ca.pem',
        SERVED_CERTIFICATE_TIMEOUT_MS: '5001',
      },
      /^SERVED_CERTIFICATE_TIMEOUT_MS: /,
    ],
  ];
  for (const [name, env, error] of cases) {
    it(name, () => {
      const result = loadConfig(env, readFile);
      if (error === undefined) {
        assert.ok(result.ok, result.ok ? '' : result.errors.join('; '));
        assert.deepEqual(result.config.servedCertificate, {
          caPem: servingCa.certPem,
          timeoutMs: 2_000,
          port: 10_250,
        });
      } else {
        assert.match(result.ok ? '(loaded)' : result.errors.join('; '), error);
      }
    });
  }
});
