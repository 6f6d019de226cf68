// readCsr over a fake API server with two copies of the object: the watch cache's (resourceVersion
// '0') and etcd's (no resourceVersion). Each case says what each copy answers and which reads the
// job made; a read the case did not expect fails it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError, RetryableError } from '@stampede/kube';
import type { CertificateSigningRequest, ReadOptions } from '@stampede/kube';
import { readCsr, readsAfter } from './read-csr.ts';
import type { CsrRead, CsrReads } from './read-csr.ts';

const JOB = { name: 'csr-1', uid: 'uid-1', resourceVersion: '5' };
const init = { message: 'x', method: 'GET', path: '/x' };

/** What one copy answers: a uid (the object, at `rv`), 404, or a 503. */
type Copy = { readonly uid: string; readonly rv: string } | 'not-found' | 'unavailable';

const object = (copy: { uid: string; rv: string }): CertificateSigningRequest => ({
  metadata: { name: JOB.name, uid: copy.uid, resourceVersion: copy.rv },
  spec: { request: '', signerName: 'kubernetes.io/kubelet-serving', usages: [] },
});

async function run(
  reads: CsrReads,
  copies: { readonly cache?: Copy; readonly etcd?: Copy },
): Promise<{ readonly result: CsrRead | Error; readonly asked: string[] }> {
  const asked: string[] = [];
  const kube = {
    getCsr: (name: string, options: ReadOptions = {}): Promise<CertificateSigningRequest> => {
      const from = options.resourceVersion === undefined ? 'etcd' : 'cache';
      asked.push(
        options.resourceVersion === undefined ? 'quorum' : `rv=${options.resourceVersion}`,
      );
      const copy = copies[from];
      if (copy === undefined)
        return Promise.reject(new Error(`unexpected read of ${name} from ${from}`));
      if (copy === 'not-found') return Promise.reject(new NotFoundError({ ...init, status: 404 }));
      if (copy === 'unavailable') {
        return Promise.reject(new RetryableError({ ...init, status: 503, kind: 'server' }));
      }
      return Promise.resolve(object(copy));
    },
  };
  try {
    return { result: await readCsr(kube, JOB, reads, new AbortController().signal), asked };
  } catch (error) {
    return { result: error as Error, asked };
  }
}

/** The outcome in one word, with where the object came from. */
function summary(result: CsrRead | Error): string {
  if (result instanceof Error) return `error ${result.name}`;
  if ('gone' in result) return 'gone';
  if ('superseded' in result) return 'superseded';
  return `found ${result.found.metadata?.resourceVersion ?? ''} from ${result.from}`;
}

const ours = (rv: string) => ({ uid: 'uid-1', rv });
const older = (rv: string) => ({ uid: 'uid-0', rv });

describe('readCsr', () => {
  const cases: readonly {
    readonly name: string;
    readonly reads: CsrReads;
    readonly cache?: Copy;
    readonly etcd?: Copy;
    readonly outcome: string;
    readonly asked: readonly string[];
  }[] = [
    {
      name: 'quorum reads only etcd',
      reads: 'quorum',
      etcd: ours('7'),
      outcome: 'found 7 from quorum',
      asked: ['quorum'],
    },
    {
      name: 'quorum calls a 404 gone',
      reads: 'quorum',
      etcd: 'not-found',
      outcome: 'gone',
      asked: ['quorum'],
    },
    {
      name: 'quorum calls another uid superseded',
      reads: 'quorum',
      etcd: older('7'),
      outcome: 'superseded',
      asked: ['quorum'],
    },
    {
      name: 'cache-first takes the cached copy of the same object and leaves etcd alone',
      reads: 'cache-first',
      cache: ours('6'),
      outcome: 'found 6 from cache',
      asked: ['rv=0'],
    },
    {
      name: 'a cache that has not seen the create yet sends the read to etcd',
      reads: 'cache-first',
      cache: 'not-found',
      etcd: ours('7'),
      outcome: 'found 7 from quorum',
      asked: ['rv=0', 'quorum'],
    },
    {
      name: 'only etcd may call a CSR gone',
      reads: 'cache-first',
      cache: 'not-found',
      etcd: 'not-found',
      outcome: 'gone',
      asked: ['rv=0', 'quorum'],
    },
    {
      name: 'a cache still holding the older object of the name sends the read to etcd',
      reads: 'cache-first',
      cache: older('3'),
      etcd: ours('7'),
      outcome: 'found 7 from quorum',
      asked: ['rv=0', 'quorum'],
    },
    {
      name: 'only etcd may call a CSR superseded',
      reads: 'cache-first',
      cache: older('3'),
      etcd: older('8'),
      outcome: 'superseded',
      asked: ['rv=0', 'quorum'],
    },
    {
      name: 'an older object in the cache and none in etcd is gone',
      reads: 'cache-first',
      cache: older('3'),
      etcd: 'not-found',
      outcome: 'gone',
      asked: ['rv=0', 'quorum'],
    },
    {
      name: 'a failing cache read is a retry of the job, not a decision',
      reads: 'cache-first',
      cache: 'unavailable',
      outcome: 'error RetryableError',
      asked: ['rv=0'],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const copies = {
        ...(c.cache === undefined ? {} : { cache: c.cache }),
        ...(c.etcd === undefined ? {} : { etcd: c.etcd }),
      };
      const { result, asked } = await run(c.reads, copies);
      assert.equal(summary(result), c.outcome);
      assert.deepEqual(asked, c.asked);
    });
  }
});

describe('readsAfter', () => {
  const cases: readonly {
    name: string;
    conflicts: number;
    configured: CsrReads;
    reads: CsrReads;
  }[] = [
    {
      name: 'the first read is where the worker is configured to read',
      conflicts: 0,
      configured: 'cache-first',
      reads: 'cache-first',
    },
    {
      name: 'a read after a 409 goes to etcd',
      conflicts: 1,
      configured: 'cache-first',
      reads: 'quorum',
    },
    {
      name: 'a quorum worker stays at quorum',
      conflicts: 0,
      configured: 'quorum',
      reads: 'quorum',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(readsAfter(c.conflicts, c.configured), c.reads);
    });
  }
});
