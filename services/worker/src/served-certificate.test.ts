import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:tls';
import type { Server } from 'node:tls';
import { after, describe, it } from 'node:test';
import { CertificateAuthority, generateKeyPair } from '@stampede/harness';
import type { CertificateTemplate } from '@stampede/harness';
import { createServedCertificates, servedCertificateHost } from './served-certificate.ts';

describe('createServedCertificates: a kubelet endpoint over TLS on loopback', () => {
  const ca = CertificateAuthority.create('kubelet-serving-test-ca');
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) server.close();
  });

  async function serve(template: Partial<CertificateTemplate>, issuer = ca): Promise<number> {
    const key = generateKeyPair();
    const cert = issuer.issue(
      {
        subject: { commonName: 'system:node:node-a', organizations: ['system:nodes'] },
        dnsNames: ['node-a'],
        ips: ['10.0.0.1'],
        extKeyUsages: ['serverAuth'],
        ...template,
      },
      key.spki,
    );
    const server = createServer({ cert: cert.certPem, key: key.privateKeyPem }, socket => {
      socket.end();
    });
    servers.push(server);
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  const read = async (port: number, timeoutMs = 1_000, signal = new AbortController().signal) =>
    createServedCertificates({ caPem: ca.certPem, timeoutMs, port }).read(
      '127.0.0.1',
      'node-a',
      signal,
    );

  it(
    'reads the SANs of the requester’s certificate from the kubelet-serving CA',
    { timeout: 5_000 },
    async () => {
      const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
      const fact = await read(await serve({ notBefore }));
      assert.ok(fact.state === 'known', JSON.stringify(fact));
      assert.deepEqual([...fact.value.sanKeys].sort(), ['dns:node-a', 'ip:10.0.0.1']);
      assert.equal(fact.value.notBeforeMs, notBefore.getTime());
    },
  );

  const refused: [string, () => Promise<number>, RegExp][] = [
    [
      'another node’s certificate',
      () => serve({ subject: { commonName: 'system:node:node-b' } }),
      /node-b/,
    ],
    ['a client certificate', () => serve({ extKeyUsages: ['clientAuth'] }), /server auth|purpose/],
    [
      'a certificate of another CA',
      () => serve({}, CertificateAuthority.create('other-ca')),
      /certificate/i,
    ],
    [
      'an expired certificate',
      () =>
        serve({
          notBefore: new Date(Date.now() - 7_200_000),
          notAfter: new Date(Date.now() - 3_600_000),
        }),
      /expired/i,
    ],
  ];
  for (const [name, start, reason] of refused) {
    it(`counts ${name} as no evidence`, { timeout: 5_000 }, async () => {
      const fact = await read(await start());
      assert.ok(fact.state === 'unavailable', JSON.stringify(fact));
      assert.match(fact.reason, reason);
    });
  }

  it('dials nothing once the job is cancelled', { timeout: 5_000 }, async () => {
    let connections = 0;
    const port = await serve({});
    servers.at(-1)?.on('secureConnection', () => (connections += 1));
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(read(port, 1_000, controller.signal), /cancelled/);
    await new Promise(resolve => setTimeout(resolve, 50));
    assert.equal(connections, 0);
  });

  it('counts a closed port as no evidence', { timeout: 5_000 }, async () => {
    const port = await serve({});
    servers.at(-1)?.close();
    await new Promise(resolve => setTimeout(resolve, 50));
    const fact = await read(port);
    assert.equal(fact.state, 'unavailable');
  });
});

describe('servedCertificateHost: where a worker may dial', () => {
  const node = (...ips: string[]) => ({
    name: 'node-a',
    createdAtMs: 0,
    addresses: [
      { type: 'Hostname' as const, address: 'node-a' },
      ...ips.map(address => ({ type: 'InternalIP' as const, address })),
    ],
  });
  const cases: [string, ReturnType<typeof node>, string[], string | undefined][] = [
    ['the first InternalIP the CSR asks for', node('10.0.0.1'), ['ip:10.0.0.1'], '10.0.0.1'],
    [
      'not an InternalIP the CSR does not ask for',
      node('10.0.0.9', '10.0.0.1'),
      ['ip:10.0.0.1'],
      '10.0.0.1',
    ],
    ['no address when the CSR asks for none of them', node('10.0.0.9'), ['ip:10.0.0.1'], undefined],
    [
      'never a loopback address, even when asked for',
      node('127.0.0.1'),
      ['ip:127.0.0.1'],
      undefined,
    ],
    ['never a link-local address', node('169.254.169.254'), ['ip:169.254.169.254'], undefined],
    ['never an unspecified address', node('::'), ['ip:::'], undefined],
    [
      'never a name in an InternalIP',
      node('kubelet.example.com'),
      ['dns:kubelet.example.com'],
      undefined,
    ],
    ['an IPv6 address in canonical form', node('FD00:0:0:0:0:0:0:A'), ['ip:fd00::a'], 'fd00::a'],
  ];
  for (const [name, fact, keys, host] of cases) {
    it(name, () => {
      assert.equal(servedCertificateHost(fact, keys), host);
    });
  }
});
