// PKCS#10 (RFC 2986) CertificationRequest, read completely and strictly. The bar is Go's
// crypto/x509.ParseCertificateRequest, because the signer issues what Go reads: whatever we accept,
// Go must read the same way. Where Go is lenient and a kubelet never needs it (trailing bytes inside
// SEQUENCEs, a second extensionRequest value, non-DER encodings, version != 0), we refuse.

import type { Extension, GeneralName, ParseFailureCode, ParseResult, ParsedCsr } from '../types.ts';
import {
  DerCursor,
  DerError,
  type DerElement,
  Tag,
  children,
  encodingOf,
  expectSetOrder,
  expectTag,
  nextTagged,
  readBoolean,
  readOctetAlignedBitString,
  readOctetString,
  readOid,
  readSmallInteger,
  readWhole,
} from './der.ts';
import { readPublicKey, readSignatureAlgorithm } from './algorithms.ts';
import { readName, readSubjectAltName } from './names.ts';
import { Oid } from './oids.ts';
import { MAX_REQUEST_BYTES, readCsrPem } from './pem.ts';

interface Attribute {
  readonly oid: string;
  readonly values: readonly DerElement[];
}

function readAttribute(el: DerElement): Attribute {
  expectTag(el, Tag.sequence, 'an Attribute SEQUENCE');
  const cursor = new DerCursor(el);
  const oid = readOid(cursor.next('type'));
  const set = nextTagged(cursor, Tag.set, 'a SET of values', 'values');
  cursor.finish();
  const values = children(set);
  if (values.length === 0) throw new DerError(set.path, 'attribute must have at least one value');
  expectSetOrder(values, set.path);
  return { oid, values };
}

function readAttributes(el: DerElement): Attribute[] {
  // attributes [0] IMPLICIT SET OF Attribute: required, possibly empty.
  expectTag(el, 0xa0, 'attributes [0]');
  const items = children(el);
  expectSetOrder(items, el.path);
  return items.map(readAttribute);
}

function readExtension(el: DerElement): Extension {
  expectTag(el, Tag.sequence, 'an Extension SEQUENCE');
  const cursor = new DerCursor(el);
  const oid = readOid(cursor.next('extnID'));
  let critical = false;
  if (cursor.peek() === Tag.boolean) {
    const flag = cursor.next('critical');
    critical = readBoolean(flag);
    // critical is BOOLEAN DEFAULT FALSE, and DER omits a field equal to its default.
    if (!critical) throw new DerError(flag.path, 'critical FALSE must be omitted in DER');
  }
  const value = readOctetString(cursor.next('extnValue'));
  cursor.finish();
  return { oid, critical, value };
}

/** Re-labels reader errors in the extensions as MalformedExtension. */
function asExtensionError<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof DerError && error.code === 'MalformedRequest') {
      throw new DerError(error.path, error.reason, 'MalformedExtension');
    }
    throw error;
  }
}

function readExtensions(value: DerElement): Extension[] {
  return asExtensionError(() => {
    expectTag(value, Tag.sequence, 'an Extensions SEQUENCE');
    const extensions = children(value).map(readExtension);
    if (extensions.length === 0) throw new DerError(value.path, 'Extensions must not be empty');
    const seen = new Set<string>();
    for (const ext of extensions) {
      if (seen.has(ext.oid)) {
        throw new DerError(
          value.path,
          `extension ${ext.oid} appears more than once`,
          'DuplicateExtension',
        );
      }
      seen.add(ext.oid);
    }
    return extensions;
  });
}

function readRequestedExtensions(attributes: readonly Attribute[]): Extension[] {
  const requests = attributes.filter(a => a.oid === Oid.extensionRequest);
  if (requests.length === 0) return [];
  const [request] = requests;
  if (request === undefined || requests.length > 1) {
    throw new DerError(
      'certificationRequestInfo.attributes',
      'more than one extensionRequest attribute',
    );
  }
  const [value] = request.values;
  if (value === undefined || request.values.length !== 1) {
    throw new DerError(
      'certificationRequestInfo.attributes',
      'extensionRequest must have exactly one value',
    );
  }
  return readExtensions(value);
}

function readSans(extensions: readonly Extension[]): GeneralName[] {
  const san = extensions.find(e => e.oid === Oid.subjectAltName);
  if (san === undefined) return [];
  return asExtensionError(() => readSubjectAltName(san.value, 'extensionRequest.subjectAltName'));
}

function readVersion(cursor: DerCursor): number {
  const el = cursor.next('version');
  const version = readSmallInteger(el);
  if (version !== 0) throw new DerError(el.path, 'version must be 0 (v1)');
  return version;
}

function readInfo(el: DerElement) {
  expectTag(el, Tag.sequence, 'a CertificationRequestInfo SEQUENCE');
  const cursor = new DerCursor(el);
  const version = readVersion(cursor);
  const subject = readName(cursor.next('subject'));
  const spkiEl = cursor.next('subjectPKInfo');
  const publicKey = readPublicKey(spkiEl);
  const attributes = readAttributes(cursor.next('attributes'));
  cursor.finish();
  const extensions = readRequestedExtensions(attributes);
  return {
    version,
    subject,
    publicKey,
    spki: encodingOf(spkiEl),
    attributes: attributes.map(a => ({ oid: a.oid, values: a.values.map(encodingOf) })),
    extensions,
    sans: readSans(extensions),
    signedData: encodingOf(el),
  };
}

function readCertificationRequest(der: Uint8Array): ParsedCsr {
  const outer = readWhole(der, 'certificationRequest');
  expectTag(outer, Tag.sequence, 'a CertificationRequest SEQUENCE');
  const cursor = new DerCursor(outer, '');
  const info = readInfo(cursor.next('certificationRequestInfo'));
  const signatureAlgorithm = readSignatureAlgorithm(cursor.next('signatureAlgorithm'));
  const signature = readOctetAlignedBitString(cursor.next('signature'));
  cursor.finish();
  return { ...info, signatureAlgorithm, signature };
}

function fail(code: ParseFailureCode, message: string): ParseResult {
  return { ok: false, failure: { code, message } };
}

/**
 * Reads a DER CertificationRequest. Never throws: every problem is a ParseFailure whose message
 * names the place (`certificationRequestInfo.subject[0][0].value: invalid UTF8String contents`) and
 * never repeats input bytes. The result's byte arrays are views into `der`; do not mutate it.
 */
export function parseCsrDer(der: Uint8Array): ParseResult {
  if (der.length > MAX_REQUEST_BYTES) {
    return fail('RequestTooLarge', `request is larger than ${MAX_REQUEST_BYTES} bytes`);
  }
  try {
    return { ok: true, csr: readCertificationRequest(der) };
  } catch (error) {
    if (error instanceof DerError) return fail(error.code, error.message);
    // A bug in this reader must still deny, never approve, and never crash the worker.
    return fail('MalformedRequest', 'internal error while reading the request');
  }
}

/**
 * Reads `spec.request` (PEM bytes): exactly one `CERTIFICATE REQUEST` block found as Go's
 * encoding/pem finds it, no headers, only whitespace around it, at most 64 KiB; then the DER as
 * `parseCsrDer` does.
 */
export function parseCsr(pem: Uint8Array): ParseResult {
  const read = readCsrPem(pem);
  if (!read.ok) return read;
  return parseCsrDer(read.der);
}
