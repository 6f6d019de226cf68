// A tiny DER encoder for building test requests, valid and otherwise. Every helper produces correct
// DER unless asked not to; the raw helpers (`tlvWith`, `setInOrder`) exist to break the rules on purpose.

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Minimal DER length octets. */
export function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Identifier octets: class 0 universal, 1 application, 2 context-specific, 3 private. */
export function encodeIdentifier(
  tagClass: number,
  constructed: boolean,
  tagNumber: number,
): Uint8Array {
  const lead = (tagClass << 6) | (constructed ? 0x20 : 0);
  if (tagNumber < 31) return Uint8Array.of(lead | tagNumber);
  const groups: number[] = [];
  for (let n = tagNumber; n > 0; n = Math.floor(n / 128)) groups.unshift(n % 128);
  return Uint8Array.of(
    lead | 0x1f,
    ...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)),
  );
}

type Content = Uint8Array | readonly Uint8Array[];

function contentBytes(content: Content): Uint8Array {
  return content instanceof Uint8Array ? content : concat(content);
}

/** A TLV with a one-octet identifier (tags below 31). */
export function tlv(identifier: number, content: Content): Uint8Array {
  const body = contentBytes(content);
  return concat([Uint8Array.of(identifier), encodeLength(body.length), body]);
}

/** A TLV with hand-chosen identifier and length octets, for non-DER encodings. */
export function tlvWith(parts: {
  readonly identifier: Uint8Array | number;
  readonly length?: Uint8Array;
  readonly content: Content;
}): Uint8Array {
  const body = contentBytes(parts.content);
  const id =
    typeof parts.identifier === 'number' ? Uint8Array.of(parts.identifier) : parts.identifier;
  return concat([id, parts.length ?? encodeLength(body.length), body]);
}

export function seq(...items: readonly Uint8Array[]): Uint8Array {
  return tlv(0x30, items);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

/** Sorts SET OF members into DER order. */
export function derSorted(items: readonly Uint8Array[]): Uint8Array[] {
  return [...items].sort(compareBytes);
}

/** SET OF in DER order. */
export function set(...items: readonly Uint8Array[]): Uint8Array {
  return tlv(0x31, derSorted(items));
}

/** SET OF in the order given (to test DER's ordering rule). */
export function setInOrder(...items: readonly Uint8Array[]): Uint8Array {
  return tlv(0x31, items);
}

/** Minimal two's-complement INTEGER. */
export function int(value: bigint | number): Uint8Array {
  let v = BigInt(value);
  const bytes: number[] = [];
  for (;;) {
    const b = Number(v & 0xffn);
    bytes.unshift(b);
    v >>= 8n;
    const done = (v === 0n && (b & 0x80) === 0) || (v === -1n && (b & 0x80) !== 0);
    if (done) break;
  }
  return tlv(0x02, Uint8Array.from(bytes));
}

/** An unsigned big-endian magnitude as an INTEGER (adds the 0x00 sign octet when needed). */
export function uintFromBytes(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const trimmed = magnitude.subarray(i);
  const needsSign = ((trimmed[0] ?? 0) & 0x80) !== 0;
  return tlv(0x02, needsSign ? concat([Uint8Array.of(0), trimmed]) : trimmed);
}

export function bool(value: boolean): Uint8Array {
  return tlv(0x01, Uint8Array.of(value ? 0xff : 0x00));
}

export function nullValue(): Uint8Array {
  return Uint8Array.of(0x05, 0x00);
}

/** Base-128 arcs of an OID in dotted form. */
export function oidContent(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(a => BigInt(a));
  const [a0 = 0n, a1 = 0n, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [a0 * 40n + a1, ...rest]) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    out.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return Uint8Array.from(out);
}

export function oid(dotted: string): Uint8Array {
  return tlv(0x06, oidContent(dotted));
}

export function octets(content: Uint8Array): Uint8Array {
  return tlv(0x04, content);
}

export function bitString(content: Uint8Array, unusedBits = 0): Uint8Array {
  return tlv(0x03, concat([Uint8Array.of(unusedBits), content]));
}

/** Context-specific `[n]`: constructed (EXPLICIT or constructed IMPLICIT) or primitive. */
export function ctx(tagNumber: number, content: Content, constructed: boolean): Uint8Array {
  return concat([
    encodeIdentifier(2, constructed, tagNumber),
    encodeLength(contentBytes(content).length),
    contentBytes(content),
  ]);
}

export function explicit(tagNumber: number, inner: Uint8Array): Uint8Array {
  return ctx(tagNumber, inner, true);
}

export const StringTags = {
  utf8: 12,
  numeric: 18,
  printable: 19,
  t61: 20,
  ia5: 22,
  visible: 26,
  universal: 28,
  bmp: 30,
} as const;

/** Content octets of `text` in the given universal string type (no alphabet checks: tests build bad ones). */
export function stringContent(tag: number, text: string): Uint8Array {
  switch (tag) {
    case StringTags.utf8:
      return new TextEncoder().encode(text);
    case StringTags.bmp: {
      const out = new Uint8Array(text.length * 2);
      for (let i = 0; i < text.length; i++) {
        out[i * 2] = text.charCodeAt(i) >> 8;
        out[i * 2 + 1] = text.charCodeAt(i) & 0xff;
      }
      return out;
    }
    case StringTags.universal: {
      // Code points, not UTF-16 units: UniversalString is UTF-32.
      const points = Array.from(text, c => c.codePointAt(0) ?? 0);
      const out = new Uint8Array(points.length * 4);
      const view = new DataView(out.buffer);
      points.forEach((p, i) => {
        view.setUint32(i * 4, p);
      });
      return out;
    }
    default:
      return Uint8Array.from(text, c => c.charCodeAt(0) & 0xff);
  }
}

/** A universal string TLV. */
export function str(tag: number, text: string | Uint8Array): Uint8Array {
  return tlv(tag, typeof text === 'string' ? stringContent(tag, text) : text);
}

export function utf8(text: string): Uint8Array {
  return str(StringTags.utf8, text);
}

export function printable(text: string): Uint8Array {
  return str(StringTags.printable, text);
}

export function ia5(text: string): Uint8Array {
  return str(StringTags.ia5, text);
}

/** Hex (whitespace ignored) to bytes. */
export function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

/** A DER element's parts, for surgery on encodings built elsewhere (single-octet identifiers only). */
export function splitTlv(encoding: Uint8Array): { identifier: number; content: Uint8Array } {
  const first = encoding[1] ?? 0;
  const lengthOctets = first < 0x80 ? 0 : first & 0x7f;
  return { identifier: encoding[0] ?? 0, content: encoding.subarray(2 + lengthOctets) };
}
