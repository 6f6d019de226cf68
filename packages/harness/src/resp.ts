// Just enough RESP2 to health-check and poke a Redis from the harness without a client library:
// one connection per command, which is fine for PING, FLUSHALL and test set-up.
import { connect } from 'node:net';

export type RespValue = string | number | null | RespValue[] | RespError;

export class RespError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespError';
  }
}

export function encodeCommand(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''));
}

type Parsed = { value: RespValue; end: number } | undefined;

/** Parses one reply starting at `offset`; undefined if `buf` does not hold all of it yet. */
export function parseReply(buf: Buffer, offset = 0): Parsed {
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[offset] ?? 0);
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RespError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$':
      return parseBulk(buf, Number(line), next);
    case '*':
      return parseArray(buf, Number(line), next);
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

function parseBulk(buf: Buffer, length: number, at: number): Parsed {
  if (length < 0) return { value: null, end: at };
  if (buf.length < at + length + 2) return undefined;
  return { value: buf.toString('utf8', at, at + length), end: at + length + 2 };
}

function parseArray(buf: Buffer, count: number, start: number): Parsed {
  if (count < 0) return { value: null, end: start };
  const items: RespValue[] = [];
  let at = start;
  for (let i = 0; i < count; i++) {
    const item = parseReply(buf, at);
    if (item === undefined) return undefined;
    items.push(item.value);
    at = item.end;
  }
  return { value: items, end: at };
}

/** Sends one command and resolves with its reply (a Redis error reply rejects). */
export function redisCommand(
  port: number,
  args: readonly string[],
  { host = '127.0.0.1', timeoutMs = 5000 } = {},
): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buf = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(new Error(`redis ${host}:${port} ${args[0] ?? ''}: timed out`));
    });
    socket.on('connect', () => socket.write(encodeCommand(args)));
    socket.on('data', chunk => {
      buf = Buffer.concat([buf, chunk]);
      let reply;
      try {
        reply = parseReply(buf);
      } catch (error) {
        socket.destroy();
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (reply === undefined) return;
      socket.end();
      if (reply.value instanceof RespError) reject(reply.value);
      else resolve(reply.value);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      reject(new Error(`redis ${host}:${port}: connection closed before a reply`));
    });
  });
}
