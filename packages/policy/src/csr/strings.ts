// ASN.1 character strings as text. Each type is checked against its own alphabet; a string that breaks
// it is a malformed request, never a lossy decode, so the policy never compares a repaired string.

import { DerError } from './der.ts';

export const StringTag = {
  utf8: 12,
  numeric: 18,
  printable: 19,
  t61: 20,
  ia5: 22,
  visible: 26,
  universal: 28,
  bmp: 30,
} as const;

// TextDecoder is a web global (Node, browsers, Deno); the core's lib has no DOM types, so declare
// the one constructor used here.
declare const TextDecoder: new (
  label: 'utf-8',
  options: { fatal: boolean; ignoreBOM: boolean },
) => { decode(input: Uint8Array): string };

// ignoreBOM keeps a leading U+FEFF in the text: otherwise `\uFEFFsystem:node:a` would read as
// `system:node:a` here while Go keeps the BOM, and the two would disagree on the CN.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Alphabets as bit masks over ASCII, so one table lookup checks a byte for any type.
const PRINTABLE = 1;
const NUMERIC = 2;
const VISIBLE = 4;
const IA5 = 8;

const ALPHABETS = (() => {
  const table = new Uint8Array(256);
  const mark = (chars: string, bit: number) => {
    for (let i = 0; i < chars.length; i++)
      table[chars.charCodeAt(i)] = (table[chars.charCodeAt(i)] ?? 0) | bit;
  };
  // X.680 PrintableString: letters, digits, space and '()+,-./:=? (no `*` or `&`, which Go tolerates).
  mark(`ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?`, PRINTABLE);
  mark('0123456789 ', NUMERIC);
  for (let b = 0x20; b < 0x7f; b++) table[b] = (table[b] ?? 0) | VISIBLE;
  for (let b = 0; b < 0x80; b++) table[b] = (table[b] ?? 0) | IA5;
  return table;
})();

function inAlphabet(bytes: Uint8Array, alphabet: number): boolean {
  for (const b of bytes) if (((ALPHABETS[b] ?? 0) & alphabet) === 0) return false;
  return true;
}

/** Text of bytes already checked to be ASCII (UTF-8 decoding of ASCII is the identity). */
function ascii(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Latin-1 decoding (T61String). */
function latin1(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

function checkedAscii(bytes: Uint8Array, alphabet: number): string | undefined {
  return inAlphabet(bytes, alphabet) ? ascii(bytes) : undefined;
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function isCharacter(cp: number): boolean {
  return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
}

function isBmpCharacter(unit: number): boolean {
  const nonCharacter = unit === 0xfffe || unit === 0xffff || (unit >= 0xfdd0 && unit <= 0xfdef);
  return !nonCharacter && isCharacter(unit);
}

/** Go's rule for BMPString (UCS-2): no surrogates, no permanent noncharacters, one trailing NUL stripped. */
function decodeBmp(bytes: Uint8Array): string | undefined {
  if (bytes.length % 2 !== 0) return undefined;
  let n = bytes.length;
  if (n >= 2 && bytes[n - 1] === 0 && bytes[n - 2] === 0) n -= 2;
  let out = '';
  for (let i = 0; i < n; i += 2) {
    const unit = ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
    if (!isBmpCharacter(unit)) return undefined;
    out += String.fromCharCode(unit);
  }
  return out;
}

/** UniversalString: UTF-32 big-endian. */
function decodeUniversal(bytes: Uint8Array): string | undefined {
  if (bytes.length % 4 !== 0) return undefined;
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const cp =
      (bytes[i] ?? 0) * 0x1000000 +
      ((bytes[i + 1] ?? 0) << 16) +
      ((bytes[i + 2] ?? 0) << 8) +
      (bytes[i + 3] ?? 0);
    if (!isCharacter(cp)) return undefined;
    out += String.fromCodePoint(cp);
  }
  return out;
}

/** Whether `tag` (a universal tag number) is a character string type this reader decodes. */
export function isStringTag(tag: number): boolean {
  return (
    tag === StringTag.utf8 ||
    tag === StringTag.numeric ||
    tag === StringTag.printable ||
    tag === StringTag.t61 ||
    tag === StringTag.ia5 ||
    tag === StringTag.visible ||
    tag === StringTag.universal ||
    tag === StringTag.bmp
  );
}

function decodeByTag(tag: number, bytes: Uint8Array): string | undefined {
  switch (tag) {
    case StringTag.utf8:
      return decodeUtf8(bytes);
    case StringTag.numeric:
      return checkedAscii(bytes, NUMERIC);
    case StringTag.printable:
      return checkedAscii(bytes, PRINTABLE);
    case StringTag.t61:
      // T.61 is read as Latin-1, as Go and BoringSSL do; any octet is allowed.
      return latin1(bytes);
    case StringTag.ia5:
      return checkedAscii(bytes, IA5);
    case StringTag.visible:
      return checkedAscii(bytes, VISIBLE);
    case StringTag.universal:
      return decodeUniversal(bytes);
    case StringTag.bmp:
      return decodeBmp(bytes);
    default:
      return undefined;
  }
}

const TAG_NAMES: Readonly<Record<number, string>> = {
  12: 'UTF8String',
  18: 'NumericString',
  19: 'PrintableString',
  20: 'T61String',
  22: 'IA5String',
  26: 'VisibleString',
  28: 'UniversalString',
  30: 'BMPString',
};

/** Decodes a character string of universal type `tag`; throws when a byte breaks the type's alphabet. */
export function decodeString(tag: number, bytes: Uint8Array, path: string): string {
  const text = decodeByTag(tag, bytes);
  if (text === undefined) {
    throw new DerError(path, `invalid ${TAG_NAMES[tag] ?? 'character string'} contents`);
  }
  return text;
}

/** IA5String contents (dNSName, rfc822Name, URI): ASCII only. */
export function decodeIa5(bytes: Uint8Array, path: string, code: 'MalformedExtension'): string {
  const text = checkedAscii(bytes, IA5);
  if (text === undefined) throw new DerError(path, 'IA5String must be ASCII', code);
  return text;
}
