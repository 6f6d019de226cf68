import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readPath } from './read-path.ts';

const NODE = '/api/v1/nodes/node-1';

describe('readPath', () => {
  const cases: readonly { name: string; resourceVersion?: string; path: string }[] = [
    { name: 'a read without a resourceVersion stays a quorum read', path: NODE },
    {
      name: "'0' reads any version from the watch cache",
      resourceVersion: '0',
      path: `${NODE}?resourceVersion=0`,
    },
    {
      name: 'a version asks for one not older than it',
      resourceVersion: '4711',
      path: `${NODE}?resourceVersion=4711`,
    },
    {
      name: 'a version is sent encoded, never as part of the path',
      resourceVersion: '1&x=/',
      path: `${NODE}?resourceVersion=1%26x%3D%2F`,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const options = c.resourceVersion === undefined ? {} : { resourceVersion: c.resourceVersion };
      assert.equal(readPath(NODE, options), c.path);
    });
  }
});
