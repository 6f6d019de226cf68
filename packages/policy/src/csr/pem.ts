// PEM, found exactly the way Go's encoding/pem.Decode finds it (go1.26 src/encoding/pem/pem.go), then
// held to rule 5: one CERTIFICATE REQUEST block, no headers, only whitespace around it. Finding the
// block the way Go does matters because the apiserver and the signer read spec.request with Go: if we
// read a different block from the same bytes, we would approve what we never checked (threat T13).

import type { ParseFailure } from '../types.ts';

/** Rule 5: `spec.request` is at most 64 KiB. A kubelet's request is under 1 KiB. */
export const MAX_REQUEST_BYTES = 64 * 1024;

const NEWLINE = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
const DASH = 0x2d;

const ascii = (text: string): Uint8Array => Uint8Array.from(text, c => c.charCodeAt(0));
const PEM_START = ascii('-----BEGIN ');
const PEM_END = ascii('\n-----END ');
const CSR_TYPE = ascii('CERTIFICATE REQUEST');

function matchesAt(data: Uint8Array, at: number, pattern: Uint8Array): boolean {
  if (at < 0 || at + pattern.length > data.length) return false;
  for (let k = 0; k < pattern.length; k++) if (data[at + k] !== pattern[k]) return false;
  return true;
}

function indexOf(data: Uint8Array, pattern: Uint8Array, from: number): number {
  const first = pattern[0];
  for (let i = data.indexOf(first ?? 0, from); i >= 0; i = data.indexOf(first ?? 0, i + 1)) {
    if (matchesAt(data, i, pattern)) return i;
  }
  return -1;
}

/** The last match lying wholly inside [from, to). */
function lastIndexOf(data: Uint8Array, pattern: Uint8Array, from: number, to: number): number {
  const first = pattern[0] ?? 0;
  // Typed-array lastIndexOf reads a negative start as counting from the end: never pass one.
  let i = to - pattern.length;
  while (i >= from) {
    i = data.lastIndexOf(first, i);
    if (i < from) return -1;
    if (matchesAt(data, i, pattern)) return i;
    i--;
  }
  return -1;
}

/** Go's getLine: the line at `from` without its `\n` or `\r\n` and without trailing spaces and tabs. */
function getLine(data: Uint8Array, from: number) {
  let i = data.indexOf(NEWLINE, from);
  let next: number;
  if (i < 0) {
    i = data.length;
    next = i;
  } else {
    next = i + 1;
    if (i > from && data[i - 1] === CR) i--;
  }
  while (i > from && (data[i - 1] === SPACE || data[i - 1] === TAB)) i--;
  return { lineEnd: i, next, consumed: next - from };
}

const IGNORED = 64;
const PAD = 65;
const INVALID = 255;

/** Byte → sextet, or IGNORED (pem strips spaces and tabs; base64 skips \r and \n), PAD or INVALID. */
const BASE64 = (() => {
  const table = new Uint8Array(256).fill(INVALID);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  for (const b of [SPACE, TAB, CR, NEWLINE]) table[b] = IGNORED;
  table[0x3d] = PAD;
  return table;
})();

interface Base64Result {
  readonly bytes: Uint8Array;
  /** False when the last quantum has non-zero padding bits (Go accepts; we refuse). */
  readonly canonical: boolean;
}

/**
 * base64.StdEncoding.Decode after pem's removal of spaces and tabs: groups of four, padding only in
 * the last group and then nothing but newlines. Returns undefined where Go returns an error.
 */
export function decodeBase64LikeGo(
  data: Uint8Array,
  from: number,
  to: number,
): Base64Result | undefined {
  const out = new Uint8Array(Math.ceil((to - from) / 4) * 3);
  let n = 0;
  let quantum = 0;
  let count = 0;
  let pads = 0;
  for (let i = from; i < to; i++) {
    const v = BASE64[data[i] ?? 0] ?? INVALID;
    if (v === IGNORED) continue;
    if (v === PAD) {
      // `=` may only appear as the 3rd and 4th, or the 4th, character of the final group.
      if (count + pads < 2) return undefined;
      pads++;
      if (count + pads > 4) return undefined;
      continue;
    }
    if (v === INVALID || pads > 0) return undefined;
    quantum = (quantum << 6) | v;
    if (++count === 4) {
      out[n++] = quantum >> 16;
      out[n++] = (quantum >> 8) & 0xff;
      out[n++] = quantum & 0xff;
      quantum = 0;
      count = 0;
    }
  }
  return finishBase64(out, n, { quantum, count, pads });
}

function finishBase64(
  out: Uint8Array,
  length: number,
  state: { quantum: number; count: number; pads: number },
): Base64Result | undefined {
  const { quantum, count, pads } = state;
  if (count === 0 && pads === 0) return { bytes: out.subarray(0, length), canonical: true };
  if (count + pads !== 4) return undefined;
  let n = length;
  if (count === 2) {
    out[n++] = quantum >> 4;
    return { bytes: out.subarray(0, n), canonical: (quantum & 0x0f) === 0 };
  }
  out[n++] = quantum >> 10;
  out[n++] = (quantum >> 2) & 0xff;
  return { bytes: out.subarray(0, n), canonical: (quantum & 0x03) === 0 };
}

/** One block as Go's pem.Decode returns it, with where it starts and where its `rest` begins. */
export interface GoPemBlock {
  readonly type: string;
  /** Whether the type is exactly these bytes (cheaper than reading `type`). */
  typeIs(expected: Uint8Array): boolean;
  readonly headerCount: number;
  readonly bytes: Uint8Array;
  readonly canonicalBase64: boolean;
  /** Offset of `-----BEGIN`. */
  readonly start: number;
  /** Offset of Go's `rest`: just after the END line. */
  readonly restStart: number;
}

function latin1(data: Uint8Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += String.fromCharCode(data[i] ?? 0);
  return out;
}

/**
 * A port of Go's pem.Decode over `data[from:]`, keeping its quirks: it finds the first END line, then
 * the last BEGIN line before it; a candidate that fails is skipped and the search moves past that END.
 * Returns undefined where Go returns a nil block.
 */
export function decodePemLikeGo(data: Uint8Array, from = 0): GoPemBlock | undefined {
  let rest = from;
  let endTrailerIndex = 0;
  for (;;) {
    if (endTrailerIndex < 0 || endTrailerIndex > data.length - rest) return undefined;
    rest += endTrailerIndex;
    const endAt = indexOf(data, PEM_END, rest);
    if (endAt < 0) return undefined;
    const candidate = readCandidate(data, rest, endAt - rest);
    if (candidate.kind === 'block') return candidate.block;
    if (candidate.kind === 'abort') return undefined;
    rest = candidate.rest;
    endTrailerIndex = candidate.endTrailerIndex;
  }
}

type Candidate =
  | { readonly kind: 'block'; readonly block: GoPemBlock }
  | { readonly kind: 'abort' }
  | { readonly kind: 'skip'; readonly rest: number; readonly endTrailerIndex: number };

/** One iteration of Go's loop: `endIndex` is the END marker's offset relative to `rest`. */
function readCandidate(data: Uint8Array, restIn: number, endIndexIn: number): Candidate {
  let rest = restIn;
  let endIndex = endIndexIn;
  let endTrailerIndex = endIndex + PEM_END.length;
  const skip = (): Candidate => ({ kind: 'skip', rest, endTrailerIndex });

  const beginAt = lastIndexOf(data, PEM_START, rest, rest + endIndex);
  if (beginAt < 0 || (beginAt > rest && data[beginAt - 1] !== NEWLINE)) return skip();
  const advance = beginAt + PEM_START.length - rest;
  rest += advance;
  endIndex -= advance;
  endTrailerIndex -= advance;

  const typeLine = getLine(data, rest);
  const typeStart = rest;
  rest = typeLine.next;
  endIndex -= typeLine.consumed;
  endTrailerIndex -= typeLine.consumed;
  const typeEnd = typeLine.lineEnd - 5;
  if (typeEnd < typeStart || !isDashes(data, typeEnd)) return skip();

  const headers = readHeaders(data, rest);
  if (headers === undefined) return { kind: 'abort' };
  rest = headers.rest;
  endIndex -= headers.consumed;
  endTrailerIndex -= headers.consumed;
  if (headers.count > 0 && endIndex < 0) return skip();

  if (!endLineMatches(data, rest + endTrailerIndex, typeStart, typeEnd)) return skip();

  let decoded: Base64Result = { bytes: new Uint8Array(0), canonical: true };
  if (endIndex > 0) {
    const body = decodeBase64LikeGo(data, rest, rest + endIndex);
    if (body === undefined) return skip();
    decoded = body;
  }
  return {
    kind: 'block',
    block: {
      // The type is made text only when asked for: readCsrPem compares bytes.
      get type() {
        return latin1(data, typeStart, typeEnd);
      },
      typeIs: (expected: Uint8Array) =>
        typeEnd - typeStart === expected.length && matchesAt(data, typeStart, expected),
      headerCount: headers.count,
      bytes: decoded.bytes,
      canonicalBase64: decoded.canonical,
      start: beginAt,
      restStart: getLine(data, rest + endIndex + PEM_END.length - 1).next,
    },
  };
}

function isDashes(data: Uint8Array, at: number): boolean {
  for (let k = 0; k < 5; k++) if (data[at + k] !== DASH) return false;
  return true;
}

/** Go's header loop: `Key: Value` lines until one without a colon. Undefined when input runs out. */
function readHeaders(data: Uint8Array, from: number) {
  let rest = from;
  let count = 0;
  let consumed = 0;
  for (;;) {
    if (rest >= data.length) return undefined;
    const line = getLine(data, rest);
    const colon = data.indexOf(COLON, rest);
    if (colon < 0 || colon >= line.lineEnd) break;
    count++;
    rest = line.next;
    consumed += line.consumed;
  }
  return { rest, count, consumed };
}

/** After `-----END `: the same type, five dashes, then only spaces or tabs to the end of the line. */
function endLineMatches(data: Uint8Array, at: number, typeStart: number, typeEnd: number): boolean {
  const typeLength = typeEnd - typeStart;
  if (at < 0 || data.length - at < typeLength + 5) return false;
  for (let k = 0; k < typeLength; k++) if (data[at + k] !== data[typeStart + k]) return false;
  if (!isDashes(data, at + typeLength)) return false;
  const restOfLine = at + typeLength + 5;
  return getLine(data, restOfLine).lineEnd === restOfLine;
}

function isWhitespace(data: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = data[i];
    if (b !== SPACE && b !== TAB && b !== CR && b !== NEWLINE) return false;
  }
  return true;
}

function malformed(message: string): { ok: false; failure: ParseFailure } {
  return { ok: false, failure: { code: 'MalformedPem', message } };
}

/**
 * Extracts the DER from `spec.request` (rule 5). Messages are fixed text: the PEM type and headers
 * are attacker-chosen and are not echoed.
 */
export function readCsrPem(
  input: Uint8Array,
): { ok: true; der: Uint8Array } | { ok: false; failure: ParseFailure } {
  if (input.length > MAX_REQUEST_BYTES) {
    return {
      ok: false,
      failure: {
        code: 'RequestTooLarge',
        message: `request is larger than ${MAX_REQUEST_BYTES} bytes`,
      },
    };
  }
  const block = decodePemLikeGo(input);
  if (block === undefined) {
    return indexOf(input, PEM_START, 0) < 0
      ? malformed('no PEM block found')
      : malformed('no well-formed PEM block found (BEGIN/END lines or base64 body)');
  }
  if (!block.typeIs(CSR_TYPE)) return malformed('PEM block type must be CERTIFICATE REQUEST');
  if (block.headerCount > 0) return malformed('PEM headers are not allowed');
  if (!isWhitespace(input, 0, block.start)) return malformed('data before the PEM block');
  if (!isWhitespace(input, block.restStart, input.length)) {
    return decodePemLikeGo(input, block.restStart) === undefined
      ? malformed('data after the PEM block')
      : malformed('more than one PEM block');
  }
  if (!block.canonicalBase64) return malformed('base64 body has non-zero padding bits');
  return { ok: true, der: block.bytes };
}
