// The subject Name and the subjectAltName GeneralNames, read in full. Nothing is dropped: unknown
// attribute types, non-string values and unknown GeneralName kinds are all kept, so the policy can
// deny them instead of never seeing them (Go's parsed view silently drops several of these).

import type { GeneralName, GeneralNameKind, Rdn, RdnAttribute } from '../types.ts';
import {
  DerCursor,
  DerError,
  type DerElement,
  Tag,
  TagClass,
  children,
  contentOf,
  expectSetOrder,
  expectTag,
  readOid,
  readWhole,
  toHex,
} from './der.ts';
import { formatSanIp } from './ip-text.ts';
import { decodeIa5, decodeString, isStringTag } from './strings.ts';

function readAttributeValue(el: DerElement): { tag: number; value: string } {
  const universal = el.tagClass === TagClass.universal;
  if (universal && isStringTag(el.tagNumber)) {
    // DER has no constructed strings; a constructed one would let two readers join chunks differently.
    if (el.constructed) throw new DerError(el.path, 'constructed string is not DER');
    return { tag: el.tagNumber, value: decodeString(el.tagNumber, contentOf(el), el.path) };
  }
  // Not a character string: report the tag as seen (a universal primitive tag number, otherwise the
  // whole identifier octet, which is never a string tag) and the content as hex.
  const tag = universal && !el.constructed && el.tagNumber < 31 ? el.tagNumber : el.identifier;
  return { tag, value: toHex(contentOf(el)) };
}

function readAttributeTypeAndValue(el: DerElement): RdnAttribute {
  expectTag(el, Tag.sequence, 'an AttributeTypeAndValue SEQUENCE');
  const cursor = new DerCursor(el);
  const oid = readOid(cursor.next('type'));
  const { tag, value } = readAttributeValue(cursor.next('value'));
  cursor.finish();
  return { oid, tag, value };
}

function readRdn(el: DerElement): Rdn {
  expectTag(el, Tag.set, 'a RelativeDistinguishedName SET');
  const atvs = children(el);
  if (atvs.length === 0) throw new DerError(el.path, 'RelativeDistinguishedName must not be empty');
  expectSetOrder(atvs, el.path);
  return atvs.map(readAttributeTypeAndValue);
}

/** Reads a Name (an RDNSequence), keeping order, types and string tags. */
export function readName(el: DerElement): Rdn[] {
  expectTag(el, Tag.sequence, 'a Name SEQUENCE');
  return children(el).map(readRdn);
}

// ---- GeneralNames ----

interface KindSpec {
  readonly kind: GeneralNameKind;
  readonly constructed: boolean;
}

/** GeneralName CHOICE (RFC 5280 4.2.1.6), indexed by context tag number. */
const KINDS: readonly KindSpec[] = [
  { kind: 'otherName', constructed: true },
  { kind: 'email', constructed: false },
  { kind: 'dns', constructed: false },
  { kind: 'x400Address', constructed: true },
  { kind: 'directoryName', constructed: true },
  { kind: 'ediPartyName', constructed: true },
  { kind: 'uri', constructed: false },
  { kind: 'ip', constructed: false },
  { kind: 'registeredId', constructed: false },
];

function generalNameValue(kind: GeneralNameKind, el: DerElement): string {
  const content = contentOf(el);
  if (kind === 'email' || kind === 'dns' || kind === 'uri') {
    return decodeIa5(content, el.path, 'MalformedExtension');
  }
  return kind === 'ip' ? formatSanIp(content) : toHex(content);
}

function readGeneralName(el: DerElement): GeneralName {
  if (el.tagClass !== TagClass.contextSpecific) {
    throw new DerError(
      el.path,
      'GeneralName must have a context-specific tag',
      'MalformedExtension',
    );
  }
  const spec = KINDS[el.tagNumber];
  if (spec === undefined) {
    return { kind: 'unknown', tag: el.tagNumber, value: toHex(contentOf(el)) };
  }
  if (spec.constructed !== el.constructed) {
    // Go skips a dNSName sent constructed; we refuse it rather than read it another way.
    const form = spec.constructed ? 'constructed' : 'primitive';
    throw new DerError(el.path, `${spec.kind} GeneralName must be ${form}`, 'MalformedExtension');
  }
  return { kind: spec.kind, tag: el.tagNumber, value: generalNameValue(spec.kind, el) };
}

/** Reads the subjectAltName extnValue: one non-empty GeneralNames SEQUENCE, nothing after it. */
export function readSubjectAltName(value: Uint8Array, path: string): GeneralName[] {
  const seq = readWhole(value, path);
  expectTag(seq, Tag.sequence, 'a GeneralNames SEQUENCE');
  const names = children(seq);
  if (names.length === 0) throw new DerError(path, 'GeneralNames must not be empty');
  return names.map(readGeneralName);
}
