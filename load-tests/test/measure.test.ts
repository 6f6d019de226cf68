// The measuring pieces on their own: statistics, /proc parsing, apiserver metrics, the CSR mix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  byCall,
  callerOf,
  diffCounters,
  histogram,
  kindsFor,
  packageOf,
  parseApiserverMetrics,
  parseStatCpuSeconds,
  percentile,
  ratePerBin,
  sampleProcess,
  statusBytes,
  summarize,
  sustainedRate,
} from '@stampede/load-tests';

describe('statistics', () => {
  it('takes nearest-rank percentiles of sorted values', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 99), 99);
    assert.equal(percentile(values, 100), 100);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('summarizes unsorted samples', () => {
    const s = summarize([5, 1, 3, 2, 4]);
    assert.deepEqual({ ...s }, { count: 5, p50: 3, p90: 5, p99: 5, max: 5, mean: 3 });
  });

  it('puts every value into exactly one log-spaced histogram bin', () => {
    const values = [0.2, 1, 1.5, 7, 100, 2500];
    const h = histogram(values);
    assert.equal(
      h.counts.reduce((a, b) => a + b, 0),
      values.length,
    );
    assert.equal(h.edges[0], 0);
    assert.ok((h.edges.at(-1) ?? 0) <= 2500);
  });

  it('counts events per second from a start time', () => {
    assert.deepEqual(ratePerBin([0, 10, 999, 1000, 2500], 0), [3, 1, 1]);
  });

  it('measures the sustained rate between the 10th and the 90th percentile', () => {
    const times = Array.from({ length: 1001 }, (_, i) => i * 10); // 100 per second
    assert.ok(Math.abs(sustainedRate(times) - 100) < 1);
  });
});

describe('process accounting from /proc', () => {
  it('reads utime and stime even when the command name holds spaces and parentheses', () => {
    const stat = '123 (node (worker) x) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 1 0';
    assert.equal(parseStatCpuSeconds(stat, 100), 4);
  });

  it('reads VmHWM and VmRSS in bytes', () => {
    const status = 'Name:\tnode\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n';
    assert.equal(statusBytes(status, 'VmHWM'), 2048 * 1024);
    assert.equal(statusBytes(status, 'VmRSS'), 1024 * 1024);
    assert.equal(statusBytes(status, 'VmSwap'), 0);
  });

  it('samples a live process and nothing for a missing one', () => {
    const self = sampleProcess(process.pid);
    assert.ok(self && self.cpuSeconds > 0 && self.peakRssBytes >= self.rssBytes / 2);
    assert.equal(sampleProcess(2 ** 30), undefined);
  });
});

describe("kube-apiserver's request counters", () => {
  const text = (approvals: number, creates: number): string =>
    [
      '# HELP apiserver_request_total [STABLE] Counter of apiserver requests',
      `apiserver_request_total{code="200",component="apiserver",dry_run="",group="certificates.k8s.io",resource="certificatesigningrequests",scope="resource",subresource="approval",verb="PUT",version="v1"} ${approvals}`,
      `apiserver_request_total{code="201",component="apiserver",dry_run="",group="certificates.k8s.io",resource="certificatesigningrequests",scope="resource",subresource="",verb="POST",version="v1"} ${creates}`,
      'apiserver_request_total{code="429",component="apiserver",dry_run="",group="authorization.k8s.io",resource="subjectaccessreviews",scope="cluster",subresource="",verb="POST",version="v1"} 3',
      'apiserver_flowcontrol_rejected_requests_total{flow_schema="service-accounts",priority_level="workload-low",reason="queue-full"} 3',
    ].join('\n');

  it('parses counters and subtracts a run’s before from its after', () => {
    const delta = diffCounters(
      parseApiserverMetrics(text(10, 5)),
      parseApiserverMetrics(text(110, 105)),
    );
    assert.equal(delta.requests.length, 2);
    assert.equal(delta.apfRejected, 0);
    const rows = byCall(delta);
    assert.deepEqual(
      rows.map(r => [r.caller, r.call, r.count]),
      [
        ['approver', 'PUT certificatesigningrequests/approval', 100],
        ['generator', 'POST certificatesigningrequests', 100],
      ],
    );
  });

  it('attributes each call to the approver, the generator or the signer', () => {
    const call = (verb: string, resource: string, subresource = '') =>
      callerOf({ verb, group: '', resource, subresource });
    assert.equal(call('GET', 'certificatesigningrequests'), 'approver');
    assert.equal(call('GET', 'nodes'), 'approver');
    assert.equal(call('POST', 'subjectaccessreviews'), 'approver');
    assert.equal(call('POST', 'events'), 'approver');
    assert.equal(call('PUT', 'certificatesigningrequests', 'status'), 'signer');
    assert.equal(call('POST', 'certificatesigningrequests'), 'generator');
    assert.equal(call('PUT', 'leases'), 'other');
  });
});

describe('the CSR mix', () => {
  it('has exactly the asked shares, spread over the storm', () => {
    const kinds = kindsFor(2_000, { invalid: 0.05, otherSigner: 0.1 });
    const count = (kind: string, list = kinds) => list.filter(k => k === kind).length;
    assert.equal(count('invalid'), 100);
    assert.equal(count('other-signer'), 200);
    const firstTenth = kinds.slice(0, 200);
    assert.equal(count('invalid', firstTenth), 10);
    assert.equal(count('other-signer', firstTenth), 20);
  });

  it('is all valid with no shares', () => {
    assert.ok(kindsFor(50, { invalid: 0, otherSigner: 0 }).every(k => k === 'valid'));
  });
});

describe('CPU profile attribution', () => {
  it('names the package a script belongs to', () => {
    assert.equal(packageOf('file:///w/node_modules/ioredis/built/Redis.js', 'x'), 'ioredis');
    assert.equal(packageOf('file:///w/node_modules/@scope/pkg/a.js', 'x'), '@scope/pkg');
    assert.equal(packageOf('file:///w/packages/kube/src/transport.ts', 'x'), '@stampede/kube');
    assert.equal(packageOf('node:internal/streams/writable', 'x'), 'node:internal/streams');
    assert.equal(packageOf('', '(garbage collector)'), '(garbage collector)');
  });
});
