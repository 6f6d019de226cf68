// A minimal DER *encoder*: just the ASN.1 types an X.509 certificate and a PKCS#10 request need.
// Node can sign (crypto.sign) and parse certificates (X509Certificate) but cannot build them, and
// hand-encoding keeps certificate issuance fast enough for hundreds of node identities per test.
import { parseIpBytes } from '@stampede/testing';

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One tag-length-value; `tag` is the full identifier octet. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(0x30, ...items);
export const set = (...items: Uint8Array[]): Buffer => tlv(0x31, ...items);

/** A non-negative INTEGER from a bigint or from big-endian magnitude bytes. */
export function integer(value: bigint | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof value === 'bigint') {
    if (value < 0n) throw new RangeError('negative INTEGERs are not needed here');
    const hex = value.toString(16);
    bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  } else {
    bytes = Buffer.from(value);
  }
  // DER: minimal encoding, and a leading 0x00 when the top bit would make it negative.
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && (bytes[start + 1] ?? 0) < 0x80) start++;
  bytes = bytes.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if ((bytes[0] ?? 0) >= 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map(arc => BigInt(arc));
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined) throw new RangeError(`bad OID ${dotted}`);
  const out: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const chunk: number[] = [];
    let n = arc;
    do {
      chunk.unshift(Number(n & 0x7fn));
      n >>= 7n;
    } while (n > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i] = (chunk[i] ?? 0) | 0x80;
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

export const utf8String = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
export const printableString = (s: string): Buffer => tlv(0x13, Buffer.from(s, 'ascii'));
export const octetString = (bytes: Uint8Array): Buffer => tlv(0x04, bytes);
export const boolean = (b: boolean): Buffer => tlv(0x01, Buffer.from([b ? 0xff : 0x00]));
export const nullValue = (): Buffer => tlv(0x05);

/** BIT STRING holding whole bytes (signatures, keys). */
export const bitString = (bytes: Uint8Array): Buffer => tlv(0x03, Buffer.from([0]), bytes);

/**
 * A named-bit BIT STRING (KeyUsage): `bits` are bit positions, 0 being the most significant bit
 * of the first byte. DER drops trailing zero bits, which Go's and OpenSSL's parsers both check.
 */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return tlv(0x03, Buffer.from([0]));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  const unused = 7 - (highest & 7);
  return tlv(0x03, Buffer.from([unused]), bytes);
}

/** [n] EXPLICIT: a constructed context tag wrapping one encoded value. */
export const explicit = (n: number, ...content: Uint8Array[]): Buffer => tlv(0xa0 | n, ...content);

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 §4.1.2.5 requires. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-11-29T11:13:00.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ''); // 20261129111300
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'));
  return tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

/** GeneralNames entries: dNSName [2] and iPAddress [7], both IMPLICIT primitives. */
export function generalName(kind: 'dns' | 'ip' | 'email' | 'uri', value: string): Buffer {
  switch (kind) {
    case 'dns':
      return tlv(0x82, Buffer.from(value, 'ascii'));
    case 'email':
      return tlv(0x81, Buffer.from(value, 'ascii'));
    case 'uri':
      return tlv(0x86, Buffer.from(value, 'ascii'));
    case 'ip':
      return tlv(0x87, ipBytes(value));
  }
}

/** The octets of an IP address (the test kit's parser, independent of the policy's own). */
export function ipBytes(ip: string): Buffer {
  return Buffer.from(parseIpBytes(ip));
}
