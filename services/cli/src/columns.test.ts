import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { columns } from './columns.ts';

describe('columns', () => {
  const cases: [string, string[][], number | undefined, string][] = [
    [
      'pads each column to its widest cell',
      [
        ['a', 'bb'],
        ['ccc', 'd'],
      ],
      undefined,
      'a    bb\nccc  d',
    ],
    [
      'leaves no trailing blanks on a short last cell',
      [
        ['name', 'x'],
        ['n', ''],
      ],
      undefined,
      'name  x\nn',
    ],
    ['takes a wider gap', [['a', 'b']], 3, 'a   b'],
    ['widens for a row longer than the first', [['a'], ['b', 'c']], undefined, 'a\nb  c'],
    ['prints nothing for no rows', [], undefined, ''],
  ];
  for (const [name, rows, gap, text] of cases) {
    it(name, () => {
      assert.equal(columns(rows, gap), text);
    });
  }
});
