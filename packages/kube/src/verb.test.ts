import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verbOf } from './transport.ts';

const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

describe('verbOf', () => {
  const cases: readonly {
    name: string;
    method: 'GET' | 'POST' | 'PUT';
    path: string;
    verb: string;
  }[] = [
    {
      name: 'a paged LIST of CSRs is a list',
      method: 'GET',
      path: `${CSRS}?limit=500`,
      verb: 'list',
    },
    { name: 'a LIST of Nodes is a list', method: 'GET', path: '/api/v1/nodes', verb: 'list' },
    {
      name: 'a LIST of ServiceCIDRs is a list',
      method: 'GET',
      path: '/apis/networking.k8s.io/v1/servicecidrs?limit=500',
      verb: 'list',
    },
    { name: 'a GET of one CSR is a get', method: 'GET', path: `${CSRS}/csr-1`, verb: 'get' },
    {
      name: 'a GET from the watch cache is still a get',
      method: 'GET',
      path: `${CSRS}/csr-1?resourceVersion=0`,
      verb: 'get',
    },
    {
      name: 'a GET of a Node whose name ends in nodes is a get',
      method: 'GET',
      path: '/api/v1/nodes/gpu-nodes?resourceVersion=9',
      verb: 'get',
    },
    {
      name: 'a GET of a Node named nodes is a get',
      method: 'GET',
      path: '/api/v1/nodes/nodes',
      verb: 'get',
    },
    {
      name: 'a POST of an Event is a create',
      method: 'POST',
      path: '/apis/events.k8s.io/v1/namespaces/default/events',
      verb: 'create',
    },
    {
      name: 'a PUT of the approval is an update',
      method: 'PUT',
      path: `${CSRS}/csr-1/approval`,
      verb: 'update',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(verbOf(c), c.verb);
    });
  }
});
