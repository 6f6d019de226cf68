import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCommand, parseReply, RespError, type RespValue } from './resp.ts';

describe('RESP', () => {
  it('encodes a command as an array of bulk strings', () => {
    assert.equal(
      encodeCommand(['SET', 'k', 'vé']).toString(),
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nvé\r\n',
    );
  });

  const replies: [string, string, RespValue][] = [
    ['a simple string', '+PONG\r\n', 'PONG'],
    ['an integer', ':42\r\n', 42],
    ['a bulk string', '$5\r\nhello\r\n', 'hello'],
    ['a nil bulk string', '$-1\r\n', null],
    ['a nested array', '*2\r\n$4\r\nsave\r\n*1\r\n:1\r\n', ['save', [1]]],
  ];
  for (const [what, wire, value] of replies) {
    it(`parses ${what}`, () => {
      assert.deepEqual(parseReply(Buffer.from(wire))?.value, value);
    });
  }

  it('parses an error reply as a RespError value', () => {
    assert.ok(parseReply(Buffer.from('-ERR nope\r\n'))?.value instanceof RespError);
  });

  const partial = ['+PON', '$5\r\nhel', '*2\r\n:1\r\n'];
  for (const wire of partial) {
    it(`waits for more bytes after ${JSON.stringify(wire)}`, () => {
      assert.equal(parseReply(Buffer.from(wire)), undefined);
    });
  }
});
