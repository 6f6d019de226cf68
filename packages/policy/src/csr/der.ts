// A strict DER reader, written for one job: reading PKCS#10 requests that an attacker may have built.
// Only DER is accepted (definite, minimal lengths; minimal INTEGERs and tags; BOOLEAN 0x00/0xFF), so
// every value has exactly one encoding and no other parser can read the bytes differently from us.
// Errors carry a path (`certificationRequestInfo.subject[0][0].value`) and fixed text: never bytes
// from the input, since messages end up in CSR conditions, logs and events.

import type { ParseFailureCode } from '../types.ts';
import { knownOidText } from './oids.ts';

/** Thrown while reading; the CSR parser turns it into a ParseFailure. */
export class DerError extends Error {
  readonly path: string;
  readonly reason: string;
  readonly code: ParseFailureCode;

  constructor(path: string, reason: string, code: ParseFailureCode = 'MalformedRequest') {
    super(`${path}: ${reason}`);
    this.name = 'DerError';
    this.path = path;
    this.reason = reason;
    this.code = code;
  }
}

export const TagClass = { universal: 0, application: 1, contextSpecific: 2, private: 3 } as const;

/** Identifier octets of the universal types this reader checks by value. */
export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  sequence: 0x30,
  set: 0x31,
} as const;

/** One TLV. Offsets index `data`, the whole input, so no bytes are copied while reading. */
export interface DerElement {
  readonly data: Uint8Array;
  /** The first identifier octet: class, constructed bit and (for tags < 31) the tag number. */
  readonly identifier: number;
  readonly tagClass: number;
  readonly constructed: boolean;
  readonly tagNumber: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
  readonly path: string;
}

/** Tag numbers above this are not used by anything this reader understands; refusing them bounds the work. */
const MAX_TAG_NUMBER = 0x1fffff;

/** The content octets, without copying. */
export function contentOf(el: DerElement): Uint8Array {
  return el.data.subarray(el.contentStart, el.end);
}

/** The whole TLV encoding, without copying. */
export function encodingOf(el: DerElement): Uint8Array {
  return el.data.subarray(el.start, el.end);
}

export function contentLength(el: DerElement): number {
  return el.end - el.contentStart;
}

function readHighTagNumber(data: Uint8Array, offset: number, end: number, path: string) {
  let tagNumber = 0;
  let pos = offset;
  for (;;) {
    if (pos >= end) throw new DerError(path, 'truncated tag');
    const b = data[pos++] ?? 0;
    if (tagNumber === 0 && b === 0x80)
      throw new DerError(path, 'tag number is not minimally encoded');
    tagNumber = tagNumber * 128 + (b & 0x7f);
    if (tagNumber > MAX_TAG_NUMBER) throw new DerError(path, 'tag number is too large');
    if ((b & 0x80) === 0) break;
  }
  if (tagNumber < 31) throw new DerError(path, 'tag number is not minimally encoded');
  return { tagNumber, next: pos };
}

function readLength(data: Uint8Array, offset: number, end: number, path: string) {
  if (offset >= end) throw new DerError(path, 'truncated length');
  const first = data[offset] ?? 0;
  if (first < 0x80) return { length: first, next: offset + 1 };
  if (first === 0x80) throw new DerError(path, 'indefinite length (BER) is not allowed in DER');
  const count = first & 0x7f;
  // Four octets already describe 4 GiB; nothing we read is near that, and more would overflow.
  if (count > 4) throw new DerError(path, 'length is too large');
  if (offset + 1 + count > end) throw new DerError(path, 'truncated length');
  if (data[offset + 1] === 0) throw new DerError(path, 'length has leading zero octets (not DER)');
  let length = 0;
  for (let i = 1; i <= count; i++) length = length * 256 + (data[offset + i] ?? 0);
  if (length < 0x80) throw new DerError(path, 'length is not minimally encoded (not DER)');
  return { length, next: offset + 1 + count };
}

/** Reads one TLV starting at `offset`; it must end at or before `end`. */
export function readElement(
  data: Uint8Array,
  offset: number,
  end: number,
  path: string,
): DerElement {
  if (offset >= end) throw new DerError(path, 'missing element');
  const identifier = data[offset] ?? 0;
  let tagNumber = identifier & 0x1f;
  let pos = offset + 1;
  if (tagNumber === 0x1f) {
    const high = readHighTagNumber(data, pos, end, path);
    tagNumber = high.tagNumber;
    pos = high.next;
  }
  const { length, next } = readLength(data, pos, end, path);
  if (length > end - next)
    throw new DerError(path, 'length exceeds the enclosing data (truncated)');
  return {
    data,
    identifier,
    tagClass: identifier >> 6,
    constructed: (identifier & 0x20) !== 0,
    tagNumber,
    start: offset,
    contentStart: next,
    end: next + length,
    path,
  };
}

/** Reads exactly one TLV that spans the whole of `data`: trailing bytes are an error. */
export function readWhole(data: Uint8Array, path: string): DerElement {
  const el = readElement(data, 0, data.length, path);
  if (el.end !== data.length) throw new DerError(path, 'trailing data after the element');
  return el;
}

/**
 * Walks the content of a constructed element, one child at a time. Children are named for error
 * paths: `next('version')` gives `parent.version`, `next()` gives `parent[index]`.
 */
export class DerCursor {
  readonly #data: Uint8Array;
  readonly #end: number;
  readonly #path: string;
  readonly #prefix: string;
  #pos: number;
  #index = 0;

  /** `prefix` names the children (default: the parent's path; '' makes them top-level names). */
  constructor(parent: DerElement, prefix: string = parent.path) {
    if (!parent.constructed) throw new DerError(parent.path, 'expected a constructed encoding');
    this.#data = parent.data;
    this.#pos = parent.contentStart;
    this.#end = parent.end;
    this.#path = parent.path;
    this.#prefix = prefix;
  }

  get atEnd(): boolean {
    return this.#pos >= this.#end;
  }

  /** The identifier octet of the next child, or -1 at the end. */
  peek(): number {
    return this.#pos < this.#end ? (this.#data[this.#pos] ?? -1) : -1;
  }

  next(name?: string): DerElement {
    const path =
      name === undefined
        ? `${this.#prefix}[${this.#index}]`
        : this.#prefix === ''
          ? name
          : `${this.#prefix}.${name}`;
    const el = readElement(this.#data, this.#pos, this.#end, path);
    this.#pos = el.end;
    this.#index++;
    return el;
  }

  /** Asserts that every child has been read: DER has no room for trailing data. */
  finish(): void {
    if (this.#pos !== this.#end) {
      throw new DerError(this.#path, 'unexpected trailing data inside the element');
    }
  }
}

/** Asserts the identifier octet, e.g. `expect(el, Tag.sequence, 'a SEQUENCE')`. */
export function expectTag(el: DerElement, identifier: number, what: string): DerElement {
  if (el.identifier !== identifier || el.tagNumber !== (identifier & 0x1f)) {
    throw new DerError(el.path, `expected ${what}`);
  }
  return el;
}

/** Reads the next child and asserts its identifier octet. */
export function nextTagged(
  cursor: DerCursor,
  identifier: number,
  what: string,
  name?: string,
): DerElement {
  return expectTag(cursor.next(name), identifier, what);
}

export function readNull(el: DerElement): void {
  expectTag(el, Tag.null, 'NULL');
  if (el.end !== el.contentStart) throw new DerError(el.path, 'NULL must be empty');
}

export function readBoolean(el: DerElement): boolean {
  expectTag(el, Tag.boolean, 'a BOOLEAN');
  if (contentLength(el) !== 1) throw new DerError(el.path, 'BOOLEAN must be one octet');
  const b = el.data[el.contentStart];
  if (b === 0xff) return true;
  if (b === 0x00) return false;
  throw new DerError(el.path, 'BOOLEAN must be 0x00 or 0xFF in DER');
}

/** The content octets of an INTEGER after checking DER's minimal two's-complement encoding. */
export function readIntegerBytes(el: DerElement): Uint8Array {
  expectTag(el, Tag.integer, 'an INTEGER');
  const n = contentLength(el);
  if (n === 0) throw new DerError(el.path, 'INTEGER must not be empty');
  if (n > 1) {
    const b0 = el.data[el.contentStart] ?? 0;
    const b1 = el.data[el.contentStart + 1] ?? 0;
    if ((b0 === 0x00 && b1 < 0x80) || (b0 === 0xff && b1 >= 0x80)) {
      throw new DerError(el.path, 'INTEGER is not minimally encoded (not DER)');
    }
  }
  return contentOf(el);
}

/**
 * A two's-complement INTEGER as a bigint. Through hex, not a shift per octet: shifting a growing
 * bigint is quadratic, and a 47 KB exponent would then stall the event loop for a third of a second.
 */
export function integerToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  const value = BigInt(`0x${toHex(bytes)}`);
  return (bytes[0] ?? 0) >= 0x80 ? value - (1n << BigInt(bytes.length * 8)) : value;
}

/** A small INTEGER (such as a version or salt length) as a number; larger values are refused. */
export function readSmallInteger(el: DerElement): number {
  const bytes = readIntegerBytes(el);
  if (bytes.length > 4) throw new DerError(el.path, 'INTEGER is too large');
  let value = 0;
  for (const b of bytes) value = value * 256 + b;
  return (bytes[0] ?? 0) >= 0x80 ? value - 2 ** (bytes.length * 8) : value;
}

export function readOctetString(el: DerElement): Uint8Array {
  expectTag(el, Tag.octetString, 'an OCTET STRING');
  return contentOf(el);
}

/** A BIT STRING whose length is a whole number of octets (keys and signatures are). */
export function readOctetAlignedBitString(el: DerElement): Uint8Array {
  expectTag(el, Tag.bitString, 'a BIT STRING');
  const n = contentLength(el);
  if (n === 0) throw new DerError(el.path, 'BIT STRING must hold the unused-bits octet');
  if (el.data[el.contentStart] !== 0) {
    throw new DerError(el.path, 'BIT STRING must have no unused bits here');
  }
  return el.data.subarray(el.contentStart + 1, el.end);
}

/** The largest arc Go's encoding/asn1 accepts; larger ones make Go reject the request. */
const MAX_ARC = 0x7fffffff;

/** Appends one arc to the dotted text; the first arc encodes two (X.690 8.19.4). */
function appendArc(text: string, arc: number, first: boolean): string {
  if (!first) return `${text}.${arc}`;
  return arc < 80 ? `${Math.floor(arc / 40)}.${arc % 40}` : `2.${arc - 80}`;
}

/** Dotted text of OBJECT IDENTIFIER content octets `data[start:end]`, checking minimal base-128 arcs. */
export function oidText(data: Uint8Array, path: string, start = 0, end = data.length): string {
  if (end <= start) throw new DerError(path, 'OBJECT IDENTIFIER must not be empty');
  let text = '';
  let arc = 0;
  let startOfArc = true;
  for (let i = start; i < end; i++) {
    const b = data[i] ?? 0;
    if (startOfArc && b === 0x80) {
      throw new DerError(path, 'OBJECT IDENTIFIER arc is not minimally encoded');
    }
    arc = arc * 128 + (b & 0x7f);
    if (arc > MAX_ARC) throw new DerError(path, 'OBJECT IDENTIFIER arc is too large');
    startOfArc = (b & 0x80) === 0;
    if (startOfArc) {
      text = appendArc(text, arc, text === '');
      arc = 0;
    }
  }
  if (!startOfArc) throw new DerError(path, 'OBJECT IDENTIFIER ends inside an arc');
  return text;
}

export function readOid(el: DerElement): string {
  expectTag(el, Tag.oid, 'an OBJECT IDENTIFIER');
  return (
    knownOidText(el.data, el.contentStart, el.end) ??
    oidText(el.data, el.path, el.contentStart, el.end)
  );
}

/**
 * Asserts DER's SET OF order: each element's encoding is not greater than the next one's, compared as
 * octet strings (a shorter string that is a prefix sorts first).
 */
export function expectSetOrder(elements: readonly DerElement[], path: string): void {
  for (let i = 1; i < elements.length; i++) {
    const a = elements[i - 1];
    const b = elements[i];
    if (a !== undefined && b !== undefined && compareEncodings(a, b) > 0) {
      throw new DerError(path, 'SET OF elements are not in DER order');
    }
  }
}

function compareEncodings(a: DerElement, b: DerElement): number {
  const aLength = a.end - a.start;
  const bLength = b.end - b.start;
  const n = Math.min(aLength, bLength);
  for (let i = 0; i < n; i++) {
    const diff = (a.data[a.start + i] ?? 0) - (b.data[b.start + i] ?? 0);
    if (diff !== 0) return diff;
  }
  return aLength - bLength;
}

/** Reads every child of a constructed element (for SET OF / SEQUENCE OF). */
export function children(el: DerElement): DerElement[] {
  const cursor = new DerCursor(el);
  const out: DerElement[] = [];
  while (!cursor.atEnd) out.push(cursor.next());
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b] ?? '';
  return out;
}
