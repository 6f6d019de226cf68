// The Service ranges over fakes: ServiceCIDRs when the cluster has them, the kubernetes Service's
// ClusterIP always as well, and a retry (never a narrower answer) before the first LIST.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError, RetryableError } from '@stampede/kube';
import type { ListWatch, ListWatchStats, Service } from '@stampede/kube';
import { projectServiceCidr, startServiceRanges } from './service-ranges.ts';

interface Setup {
  readonly synced: boolean;
  readonly lastErrorStatus?: number;
  readonly cidrs: readonly (readonly string[])[];
  readonly service: () => Promise<Service | undefined>;
}

function ranges(setup: Setup) {
  let gets = 0;
  let now = 0;
  const store = new Map(setup.cidrs.map((c, i) => [`cidr-${i}`, c]));
  const kube = {
    watchServiceCidrs: <P>(): ListWatch<P> => ({
      store: store as unknown as ReadonlyMap<string, P>,
      stats: () =>
        ({ synced: setup.synced, lastErrorStatus: setup.lastErrorStatus }) as ListWatchStats,
      synced: () => Promise.resolve(),
      done: Promise.resolve(),
    }),
    getService: () => {
      gets++;
      return setup.service();
    },
  };
  const view = startServiceRanges({ kube, signal: new AbortController().signal, now: () => now });
  return {
    current: () => view.current(),
    gets: () => gets,
    advance: (ms: number) => (now += ms),
  };
}

const kubernetesService =
  (...ips: string[]) =>
  (): Promise<Service> =>
    Promise.resolve({ spec: { clusterIP: ips[0] ?? '', clusterIPs: ips } });
const failing = () =>
  Promise.reject(
    new RetryableError({ message: 'down', method: 'GET', path: '/x', kind: 'network' }),
  );

describe('startServiceRanges', () => {
  it('gives every ServiceCIDR and the kubernetes Service IP', async () => {
    const r = ranges({
      synced: true,
      cidrs: [['10.96.0.0/16', 'fd00:96::/112'], ['10.200.0.0/24']],
      service: kubernetesService('10.96.0.1'),
    });
    assert.deepEqual(await r.current(), {
      state: 'known',
      value: ['10.96.0.0/16', 'fd00:96::/112', '10.200.0.0/24', '10.96.0.1'],
    });
  });

  it('reads the kubernetes Service at most once a minute', async () => {
    const r = ranges({
      synced: true,
      cidrs: [['10.96.0.0/16']],
      service: kubernetesService('10.96.0.1'),
    });
    await Promise.all([r.current(), r.current(), r.current()]);
    assert.equal(r.gets(), 1);
    r.advance(61_000);
    await r.current();
    assert.equal(r.gets(), 2);
  });

  it('does not hold decisions up when only the second opinion fails', async () => {
    const r = ranges({ synced: true, cidrs: [['10.96.0.0/16']], service: failing });
    assert.deepEqual(await r.current(), { state: 'known', value: ['10.96.0.0/16'] });
  });

  it('is a retry before the first LIST: the Service IP alone would be too narrow', async () => {
    const r = ranges({ synced: false, cidrs: [], service: kubernetesService('10.96.0.1') });
    const got = await r.current();
    assert.equal(got.state, 'unavailable');
    assert.equal(r.gets(), 0);
  });

  it('uses the kubernetes Service where ServiceCIDRs are not served', async () => {
    const r = ranges({
      synced: false,
      lastErrorStatus: 404,
      cidrs: [],
      service: kubernetesService('10.0.0.1', 'fd00::1'),
    });
    assert.deepEqual(await r.current(), { state: 'known', value: ['10.0.0.1', 'fd00::1'] });
  });

  const unavailable: { name: string; setup: Setup }[] = [
    {
      name: 'no ServiceCIDR and no readable kubernetes Service is a retry',
      setup: { synced: true, cidrs: [], service: failing },
    },
    {
      name: 'no ServiceCIDR and no kubernetes Service at all is a retry',
      setup: {
        synced: true,
        cidrs: [],
        service: () =>
          Promise.reject(new NotFoundError({ message: 'nf', method: 'GET', path: '/x' })),
      },
    },
    {
      name: 'a kubernetes Service without a ClusterIP is a retry',
      setup: { synced: true, cidrs: [], service: kubernetesService() },
    },
  ];
  for (const c of unavailable) {
    it(c.name, async () => {
      assert.equal((await ranges(c.setup).current()).state, 'unavailable');
    });
  }

  it('keeps only the CIDR strings of a ServiceCIDR', () => {
    assert.deepEqual(projectServiceCidr({ spec: { cidrs: ['10.96.0.0/16'] } }), ['10.96.0.0/16']);
    assert.equal(projectServiceCidr({ spec: {} }), undefined);
  });
});
