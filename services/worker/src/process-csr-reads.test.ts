// Where a job reads (docs/adr/0020): under 'cache-first' the CSR comes from the watch cache; after
// a 409 it is read again at quorum; a 404 from the cache is not "gone" until etcd says so. Same
// fakes as process-csr.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conflict, notFound, pending, runJob } from './process-csr.fakes.ts';
import type { Script } from './process-csr.fakes.ts';
import type { CsrReads } from './read-csr.ts';

describe('the reads of one job', () => {
  const cases: readonly {
    readonly name: string;
    readonly csrReads?: CsrReads;
    readonly script: Script;
    readonly calls: readonly string[];
    readonly nodeReads: readonly string[];
    readonly result: string;
  }[] = [
    {
      name: 'a worker configured for nothing reads both at quorum',
      script: { getCsr: [pending('4')], updateApproval: ['ok'], createEvent: ['created'] },
      calls: ['GET csr-1', 'PUT csr-1@4 Approved', 'EVENT csr-1@5 Approved'],
      nodeReads: ['n1@quorum'],
      result: 'approved:AutoApproved',
    },
    {
      name: 'cache-first reads the CSR from the cache',
      csrReads: 'cache-first',
      script: { getCsr: [pending('4')], updateApproval: ['ok'], createEvent: ['created'] },
      calls: ['GET csr-1?resourceVersion=0', 'PUT csr-1@4 Approved', 'EVENT csr-1@5 Approved'],
      nodeReads: ['n1@quorum'],
      result: 'approved:AutoApproved',
    },
    {
      name: 'a stale cached copy is refused with 409, and the job decides again from quorum reads',
      csrReads: 'cache-first',
      script: {
        getCsr: [pending('4'), pending('6')],
        updateApproval: [conflict(), 'ok'],
        createEvent: ['created'],
      },
      calls: [
        'GET csr-1?resourceVersion=0',
        'PUT csr-1@4 Approved',
        'GET csr-1',
        'PUT csr-1@6 Approved',
        'EVENT csr-1@7 Approved',
      ],
      nodeReads: ['n1@quorum', 'n1@quorum'],
      result: 'approved:AutoApproved',
    },
    {
      name: 'a cache that has not seen the CSR yet is followed by a quorum read that finds it',
      csrReads: 'cache-first',
      script: {
        getCsr: [notFound(), pending('4')],
        updateApproval: ['ok'],
        createEvent: ['created'],
      },
      calls: [
        'GET csr-1?resourceVersion=0',
        'GET csr-1',
        'PUT csr-1@4 Approved',
        'EVENT csr-1@5 Approved',
      ],
      nodeReads: ['n1@quorum'],
      result: 'approved:AutoApproved',
    },
    {
      name: 'a CSR is gone only when the quorum read says so too',
      csrReads: 'cache-first',
      script: { getCsr: [notFound(), notFound()] },
      calls: ['GET csr-1?resourceVersion=0', 'GET csr-1'],
      nodeReads: [],
      result: 'gone',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const run = await runJob(c.script, c.csrReads === undefined ? {} : { csrReads: c.csrReads });
      assert.deepEqual(run.unexpected, []);
      assert.equal(run.error, undefined);
      assert.deepEqual(run.calls, c.calls);
      assert.deepEqual(run.nodeReads, c.nodeReads);
      assert.equal(run.result, c.result);
    });
  }
});
