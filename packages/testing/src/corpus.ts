// The adversarial corpus: named spec.request inputs with what the CSR reader must make of them. It is
// generated at test time (keys are random, content is deterministic) and drives the parser tests and
// the differential test against Go. Each section follows one class of threat:
// PEM differentials, DER malformations and parser DoS, subject smuggling, SAN and extension
// smuggling, weak or odd keys, and broken proof of possession.

import {
  bitString,
  concat,
  ctx,
  encodeLength,
  explicit,
  hex,
  int,
  nullValue,
  octets,
  oid,
  seq,
  set,
  setInOrder,
  str,
  StringTags,
  tlv,
  tlvWith,
  uintFromBytes,
  utf8,
} from './der.ts';
import {
  Oids,
  buildCsr,
  encodeName,
  encodePem,
  kubeletCsr,
  type BuildCsrOptions,
  type BuiltCsr,
  type RdnSpec,
  type SanSpec,
} from './csr.ts';
import { testKey } from './keys.ts';

/** The ParseFailure codes of @stampede/policy, repeated so that this package stays independent of it. */
export type FailureCode =
  | 'RequestTooLarge'
  | 'MalformedPem'
  | 'MalformedRequest'
  | 'DuplicateExtension'
  | 'MalformedExtension';

export type CorpusExpectation =
  /** parseCsr fails with this code. */
  | { readonly parse: 'fails'; readonly code: FailureCode }
  /**
   * parseCsr succeeds and the self-signature is (in)valid. `denied` says why the default policy must
   * deny the request whatever the facts (a rule number and reason); absent, facts decide.
   */
  | { readonly parse: 'ok'; readonly signature: 'valid' | 'invalid'; readonly denied?: string }
  /** Mutants: parseCsr fails, or it succeeds and the signature does not verify. */
  | { readonly parse: 'rejected' };

export interface CorpusCase {
  readonly name: string;
  /** The spec.request bytes (PEM). */
  readonly input: Uint8Array;
  readonly expect: CorpusExpectation;
}

const NODE = 'node-a';
const SANS: readonly SanSpec[] = [
  { kind: 'dns', value: NODE },
  { kind: 'ip', value: '10.0.0.1' },
];

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const fails = (code: FailureCode): CorpusExpectation => ({ parse: 'fails', code });
const valid: CorpusExpectation = { parse: 'ok', signature: 'valid' };
const validDenied = (denied: string): CorpusExpectation => ({
  parse: 'ok',
  signature: 'valid',
  denied,
});
const invalidDenied = (denied: string): CorpusExpectation => ({
  parse: 'ok',
  signature: 'invalid',
  denied,
});

/** A kubelet-like request (default key, O and CN, one DNS and one IP SAN), bent by `options`. */
function csr(options: BuildCsrOptions = {}): BuiltCsr {
  return buildCsr({ sans: SANS, ...options });
}

function pemCase(name: string, pem: string | Uint8Array, expect: CorpusExpectation): CorpusCase {
  return { name, input: typeof pem === 'string' ? text(pem) : pem, expect };
}

function derCase(name: string, der: Uint8Array, expect: CorpusExpectation): CorpusCase {
  return { name, input: text(encodePem(der)), expect };
}

function optionCase(name: string, options: BuildCsrOptions, expect: CorpusExpectation): CorpusCase {
  return { name, input: csr(options).pem, expect };
}

// ---- PEM (T13) ----

function pemCases(): CorpusCase[] {
  const base = csr();
  const b64 = Buffer.from(base.der).toString('base64');
  const pem = base.pemText;
  const body = pem.split('\n').slice(1, -2).join('\n');
  const other = csr({ sans: [{ kind: 'dns', value: 'other' }] }).pemText;
  const flipPadding = b64.endsWith('==')
    ? b64.slice(0, -3) + String.fromCharCode(b64.charCodeAt(b64.length - 3) + 1) + '=='
    : undefined;
  const cases: CorpusCase[] = [
    pemCase('reads a request exactly as a kubelet encodes it', pem, valid),
    pemCase('reads CRLF line endings, as Go does', pem.replaceAll('\n', '\r\n'), valid),
    pemCase('reads whitespace-only lines around the block', `\n \t\r\n${pem}\n\n  \n`, valid),
    pemCase('reads base64 in 76-character lines', encodePem(base.der, { lineLength: 76 }), valid),
    pemCase('reads base64 on a single line', encodePem(base.der, { lineLength: 100000 }), valid),
    pemCase(
      'reads spaces and tabs inside the base64, which Go strips',
      encodePem(base.der, { body: body.replaceAll('\n', ' \t\n ').replace('A', 'A ') }),
      valid,
    ),
    pemCase('reads spaces after the END line', pem.replace(/\n$/, '   \t\n'), valid),
    pemCase('reads a block without a final newline', pem.trimEnd(), valid),
    pemCase('refuses an empty request', '', fails('MalformedPem')),
    pemCase('refuses raw DER instead of PEM', base.der, fails('MalformedPem')),
    pemCase('refuses base64 without BEGIN and END lines', b64, fails('MalformedPem')),
    pemCase('refuses text before the block', `hello\n${pem}`, fails('MalformedPem')),
    pemCase('refuses text after the block', `${pem}bye\n`, fails('MalformedPem')),
    pemCase('refuses a NUL byte after the block', `${pem}\0`, fails('MalformedPem')),
    pemCase(
      'refuses a UTF-8 byte order mark before the block',
      `\uFEFF${pem}`,
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses two request blocks (the signer reads the first)',
      `${other}${pem}`,
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses a CERTIFICATE block before the request',
      `${encodePem(base.der, { type: 'CERTIFICATE' })}${pem}`,
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses block type CERTIFICATE',
      encodePem(base.der, { type: 'CERTIFICATE' }),
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses block type NEW CERTIFICATE REQUEST',
      encodePem(base.der, { type: 'NEW CERTIFICATE REQUEST' }),
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses a lower-case block type',
      encodePem(base.der, { type: 'certificate request' }),
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses PEM headers',
      encodePem(base.der, { headers: [['Proc-Type', '4,ENCRYPTED']] }),
      fails('MalformedPem'),
    ),
    pemCase('refuses a BEGIN line that does not start a line', ` ${pem}`, fails('MalformedPem')),
    pemCase(
      'refuses an END line of another type',
      pem.replace('-----END CERTIFICATE REQUEST-----', '-----END CERTIFICATE-----'),
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses a block without an END line',
      pem.split('-----END')[0] ?? '',
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses text after the dashes of the BEGIN line',
      pem.replace('REQUEST-----\n', 'REQUEST----- x\n'),
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses a character outside base64',
      pem.replace(body.slice(0, 4), '!' + body.slice(1, 4)),
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses base64 without its padding',
      encodePem(base.der, { body: b64.replace(/=+$/, '') }),
      b64.endsWith('=') ? fails('MalformedPem') : valid,
    ),
    pemCase(
      'refuses padding in the middle of the base64',
      encodePem(base.der, { body: `${b64.slice(0, 8)}==${b64.slice(8)}` }),
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses a body whose base64 is broken, followed by a good block (Go reads the second)',
      `${encodePem(base.der, { body: '####' })}${pem}`,
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses old Mac CR-only line endings',
      pem.replaceAll('\n', '\r'),
      fails('MalformedPem'),
    ),
    pemCase(
      'refuses a block with an empty body',
      '-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n',
      fails('MalformedRequest'),
    ),
    pemCase(
      'refuses a request one byte over 64 KiB',
      `${pem}${' '.repeat(65537 - pem.length)}`,
      fails('RequestTooLarge'),
    ),
    pemCase('reads a request of exactly 64 KiB', `${pem}${'\n'.repeat(65536 - pem.length)}`, valid),
  ];
  if (flipPadding !== undefined) {
    cases.push(
      pemCase(
        'refuses base64 whose padding bits are not zero (Go accepts it)',
        encodePem(base.der, { body: flipPadding }),
        fails('MalformedPem'),
      ),
    );
  }
  return cases;
}

// ---- DER structure (T12) ----

/** Replaces the outer SEQUENCE's length octets. */
function withOuterLength(der: Uint8Array, length: Uint8Array): Uint8Array {
  const first = der[1] ?? 0;
  const lengthOctets = first < 0x80 ? 1 : 1 + (first & 0x7f);
  return concat([der.subarray(0, 1), length, der.subarray(1 + lengthOctets)]);
}

function structureCases(): CorpusCase[] {
  const base = csr();
  const contentLength = base.der.length - 4; // kubelet requests are 256..65535 bytes: 0x82 xx xx
  return [
    optionCase(
      'refuses a byte after the outer SEQUENCE',
      { trailingAfter: Uint8Array.of(0) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a second request after the first',
      { trailingAfter: csr().der },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses data after the signature inside the outer SEQUENCE (Go allows it)',
      { trailingInRequest: nullValue() },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses signed data after the attributes (Go allows it and the signature verifies)',
      { trailingInInfo: utf8('smuggled') },
      fails('MalformedRequest'),
    ),
    optionCase('refuses version 1', { version: 1 }, fails('MalformedRequest')),
    optionCase('refuses version 2', { version: 2 }, fails('MalformedRequest')),
    optionCase('refuses version -1', { version: -1 }, fails('MalformedRequest')),
    optionCase(
      'refuses a version INTEGER of 2^64',
      { version: 1n << 64n },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a non-minimal version INTEGER',
      { mutateInfo: info => replaceFirst(info, hex('020100'), hex('02020000')) },
      fails('MalformedRequest'),
    ),
    derCase(
      'refuses a length with a leading zero octet',
      withOuterLength(
        base.der,
        concat([Uint8Array.of(0x83, 0), encodeLength(contentLength).subarray(1)]),
      ),
      fails('MalformedRequest'),
    ),
    derCase(
      'refuses an indefinite length (BER)',
      concat([withOuterLength(base.der, Uint8Array.of(0x80)), hex('0000')]),
      fails('MalformedRequest'),
    ),
    derCase(
      'refuses a five-octet length',
      withOuterLength(base.der, hex('850000000100')),
      fails('MalformedRequest'),
    ),
    derCase(
      'refuses a length of 2^32 - 1',
      withOuterLength(base.der, hex('84ffffffff')),
      fails('MalformedRequest'),
    ),
    derCase(
      'refuses a length one past the end',
      withOuterLength(base.der, encodeLength(contentLength + 1)),
      fails('MalformedRequest'),
    ),
    derCase(
      'refuses a short-form length written in long form',
      hex('3081 03 020100'),
      fails('MalformedRequest'),
    ),
    derCase(
      'refuses a SEQUENCE in high-tag-number form',
      concat([Uint8Array.of(0x3f, 0x10), base.der.subarray(1)]),
      fails('MalformedRequest'),
    ),
    derCase('refuses a lone end-of-contents marker', hex('0000'), fails('MalformedRequest')),
    derCase(
      'refuses a SET where the request SEQUENCE belongs',
      concat([Uint8Array.of(0x31), base.der.subarray(1)]),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a signature BIT STRING with unused bits',
      { signatureUnusedBits: 1 },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an empty signature BIT STRING',
      { mutateDer: der => replaceLastElement(der, tlv(0x03, new Uint8Array(0))) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a request without the attributes field',
      { mutateInfo: info => dropLastElement(info) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'reads an empty attributes SET with no extensions (denied: no SANs)',
      { sans: [] },
      validDenied('rule 10: no SAN'),
    ),
    optionCase(
      'refuses attributes as a primitive [0]',
      { mutateInfo: info => replaceLastIdentifier(info, 0xa0, 0x80) },
      fails('MalformedRequest'),
    ),
    unorderedAttributes(),
    optionCase(
      'reads a challengePassword attribute (denied: only extensionRequest is allowed)',
      { attributes: [{ oid: Oids.challengePassword, values: [utf8('secret')] }] },
      validDenied('rule 5: attribute other than extensionRequest'),
    ),
    optionCase(
      'refuses an attribute with an empty value SET',
      { attributes: [{ oid: Oids.challengePassword, values: [] }] },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an attribute value SET out of DER order',
      {
        mutateInfo: info =>
          replaceFirst(info, set(utf8('a'), utf8('b')), setInOrder(utf8('b'), utf8('a'))),
        attributes: [{ oid: Oids.challengePassword, values: [utf8('a'), utf8('b')] }],
      },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses two extensionRequest attributes',
      { extensionRequestCount: 2 },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an extensionRequest with two values (Go reads only the first)',
      { extensionRequestValues: 2 },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an extensionRequest whose value is not a SEQUENCE',
      { extensionRequestValue: octets(Uint8Array.of(1)) },
      fails('MalformedExtension'),
    ),
    optionCase(
      'refuses an empty Extensions SEQUENCE',
      { sans: [], extensionRequestValue: seq() },
      fails('MalformedExtension'),
    ),
  ];
}

function unorderedAttributes(): CorpusCase {
  const request = seq(
    oid(Oids.extensionRequest),
    set(seq(seq(oid(Oids.subjectAltName), octets(seq(ctx(2, text(NODE), false)))))),
  );
  const challenge = seq(oid(Oids.challengePassword), set(utf8('secret')));
  const [first, second] = [request, challenge].sort((a, b) => Buffer.compare(a, b));
  return optionCase(
    'refuses attributes out of DER order',
    {
      sans: [],
      mutateInfo: info =>
        replaceLastElement(info, ctx(0, [second ?? challenge, first ?? request], true)),
    },
    fails('MalformedRequest'),
  );
}

// ---- Byte surgery helpers ----

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, fromEnd: boolean): number {
  const positions = [];
  for (let i = 0; i + needle.length <= haystack.length; i++) {
    let match = true;
    for (let k = 0; k < needle.length && match; k++) match = haystack[i + k] === needle[k];
    if (match) positions.push(i);
  }
  return (fromEnd ? positions.at(-1) : positions[0]) ?? -1;
}

function replaceAt(
  haystack: Uint8Array,
  at: number,
  length: number,
  replacement: Uint8Array,
): Uint8Array {
  if (at < 0) throw new Error('corpus: pattern not found');
  return concat([haystack.subarray(0, at), replacement, haystack.subarray(at + length)]);
}

/** Replaces the first occurrence of `from` and fixes the outer SEQUENCE length. */
function replaceFirst(seqDer: Uint8Array, from: Uint8Array, to: Uint8Array): Uint8Array {
  return reframe(replaceAt(seqDer, indexOfBytes(seqDer, from, false), from.length, to));
}

/** Re-encodes a SEQUENCE's length after its content changed size (content starts after the header). */
function reframe(seqDer: Uint8Array): Uint8Array {
  const first = seqDer[1] ?? 0;
  const header = first < 0x80 ? 2 : 2 + (first & 0x7f);
  return tlv(seqDer[0] ?? 0x30, seqDer.subarray(header));
}

/** The child elements of a SEQUENCE (single-octet identifiers). */
function elementsOf(seqDer: Uint8Array): Uint8Array[] {
  const first = seqDer[1] ?? 0;
  let at = first < 0x80 ? 2 : 2 + (first & 0x7f);
  const out: Uint8Array[] = [];
  while (at < seqDer.length) {
    const lengthByte = seqDer[at + 1] ?? 0;
    const octetCount = lengthByte < 0x80 ? 0 : lengthByte & 0x7f;
    let length = lengthByte < 0x80 ? lengthByte : 0;
    for (let k = 0; k < octetCount; k++) length = length * 256 + (seqDer[at + 2 + k] ?? 0);
    const end = at + 2 + octetCount + length;
    out.push(seqDer.subarray(at, end));
    at = end;
  }
  return out;
}

function dropLastElement(seqDer: Uint8Array): Uint8Array {
  return seq(...elementsOf(seqDer).slice(0, -1));
}

function replaceLastElement(seqDer: Uint8Array, replacement: Uint8Array): Uint8Array {
  return seq(...elementsOf(seqDer).slice(0, -1), replacement);
}

function replaceLastIdentifier(seqDer: Uint8Array, from: number, to: number): Uint8Array {
  const elements = elementsOf(seqDer);
  const last = elements.at(-1) ?? new Uint8Array(0);
  if (last[0] !== from) throw new Error('corpus: unexpected identifier');
  return seq(...elements.slice(0, -1), concat([Uint8Array.of(to), last.subarray(1)]));
}

// ---- Extensions (T8, T9) ----

function extensionCases(): CorpusCase[] {
  const sanValue = seq(ctx(2, text(NODE), false));
  return [
    optionCase(
      'refuses a second subjectAltName extension',
      { extensions: [{ oid: Oids.subjectAltName, value: seq(ctx(2, text('evil'), false)) }] },
      fails('DuplicateExtension'),
    ),
    optionCase(
      'refuses a repeated unknown extension',
      {
        extensions: [
          { oid: '1.2.3.4', value: nullValue() },
          { oid: '1.2.3.4', value: nullValue() },
        ],
      },
      fails('DuplicateExtension'),
    ),
    optionCase(
      'refuses critical FALSE written out (DER omits defaults)',
      {
        sans: [],
        extensions: [{ oid: Oids.subjectAltName, encodeCriticalFalse: true, value: sanValue }],
      },
      fails('MalformedExtension'),
    ),
    optionCase(
      'refuses a BOOLEAN that is neither 0x00 nor 0xFF',
      {
        sans: [],
        extensionRequestValue: seq(
          seq(oid(Oids.subjectAltName), tlv(0x01, Uint8Array.of(1)), octets(sanValue)),
        ),
      },
      fails('MalformedExtension'),
    ),
    optionCase('reads a critical subjectAltName', { sanCritical: true }, valid),
    optionCase(
      'reads a requested keyUsage (denied: only subjectAltName may be requested)',
      {
        extensions: [
          { oid: Oids.keyUsage, critical: true, value: bitString(Uint8Array.of(0x80), 7) },
        ],
      },
      validDenied('rule 7a: keyUsage requested'),
    ),
    optionCase(
      'reads a requested clientAuth extKeyUsage (denied)',
      { extensions: [{ oid: Oids.extKeyUsage, value: seq(oid('1.3.6.1.5.5.7.3.2')) }] },
      validDenied('rule 7a: extKeyUsage requested'),
    ),
    optionCase(
      'reads a requested CA basicConstraints (denied)',
      {
        extensions: [
          {
            oid: Oids.basicConstraints,
            critical: true,
            value: seq(tlv(0x01, Uint8Array.of(0xff))),
          },
        ],
      },
      validDenied('rule 7a: basicConstraints requested'),
    ),
    optionCase(
      'reads an unknown non-critical extension (denied)',
      { extensions: [{ oid: '1.3.6.1.4.1.99999.1', value: nullValue() }] },
      validDenied('rule 7a: unknown extension'),
    ),
    optionCase(
      'refuses an Extension with a trailing element (Go allows it)',
      {
        sans: [],
        extensionRequestValue: seq(seq(oid(Oids.subjectAltName), octets(sanValue), nullValue())),
      },
      fails('MalformedExtension'),
    ),
    optionCase(
      'refuses an extnValue that is not an OCTET STRING',
      { sans: [], extensionRequestValue: seq(seq(oid(Oids.subjectAltName), tlv(0x0c, sanValue))) },
      fails('MalformedExtension'),
    ),
    optionCase(
      'refuses a constructed OCTET STRING extnValue (BER)',
      {
        sans: [],
        extensionRequestValue: seq(seq(oid(Oids.subjectAltName), tlv(0x24, octets(sanValue)))),
      },
      fails('MalformedExtension'),
    ),
  ];
}

// ---- Subject (T7) ----

function subjectWith(subject: readonly RdnSpec[]): BuildCsrOptions {
  return { subject };
}

const O = { type: 'O', value: 'system:nodes' } as const;
const CN = `system:node:${NODE}`;

function subjectCases(): CorpusCase[] {
  const withCn = (tag: number, value: string | Uint8Array = CN) =>
    subjectWith([O, { type: 'CN', value, tag }]);
  const rawCn = (rawValue: Uint8Array) => subjectWith([O, { type: 'CN', value: '', rawValue }]);
  const denied = validDenied('rule 8: subject');
  return [
    optionCase('reads a UTF8String CN', withCn(StringTags.utf8), valid),
    optionCase('reads an IA5String CN (denied: string type)', withCn(StringTags.ia5), denied),
    optionCase('reads a T61String CN (denied)', withCn(StringTags.t61), denied),
    optionCase('reads a BMPString CN (denied)', withCn(StringTags.bmp), denied),
    optionCase(
      'reads a BMPString CN with a NUL terminator (denied)',
      withCn(StringTags.bmp, `${CN}\0`),
      denied,
    ),
    optionCase(
      'reads a UniversalString CN, which Go does not decode (denied)',
      withCn(StringTags.universal),
      denied,
    ),
    optionCase('reads a VisibleString CN (denied)', withCn(StringTags.visible), denied),
    optionCase('reads a NumericString CN (denied)', withCn(StringTags.numeric, '12345'), denied),
    optionCase(
      'refuses a PrintableString with an asterisk (Go allows it)',
      withCn(StringTags.printable, 'system:node:*'),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a PrintableString with an ampersand (Go allows it)',
      withCn(StringTags.printable, 'system:node:a&b'),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a PrintableString with an underscore',
      withCn(StringTags.printable, 'system:node:a_b'),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an IA5String with a byte above 0x7F',
      withCn(StringTags.ia5, hex('e9')),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an overlong UTF-8 sequence',
      withCn(StringTags.utf8, hex('c0af')),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a UTF-8 encoded surrogate',
      withCn(StringTags.utf8, hex('eda080')),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a truncated UTF-8 sequence',
      withCn(StringTags.utf8, hex('73e282')),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a BMPString of odd length',
      withCn(StringTags.bmp, hex('006100')),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a BMPString with a lone surrogate',
      withCn(StringTags.bmp, hex('d800')),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a UniversalString above U+10FFFF',
      withCn(StringTags.universal, hex('00110000')),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a NumericString with a letter',
      withCn(StringTags.numeric, 'a1'),
      fails('MalformedRequest'),
    ),
    optionCase(
      'keeps a byte order mark at the start of a UTF8String CN (denied: CN differs)',
      withCn(StringTags.utf8, `\uFEFF${CN}`),
      denied,
    ),
    optionCase('keeps a NUL inside a CN (denied)', withCn(StringTags.utf8, `${CN}\0.evil`), denied),
    optionCase(
      'reads two CNs (denied)',
      subjectWith([O, { type: 'CN', value: CN }, { type: 'CN', value: 'system:node:node-b' }]),
      denied,
    ),
    optionCase('reads two Os (denied)', subjectWith([O, O, { type: 'CN', value: CN }]), denied),
    optionCase(
      'reads a multi-valued RDN holding O and CN (denied: a kubelet sends one attribute per RDN)',
      subjectWith([[O, { type: 'CN', value: CN }]]),
      denied,
    ),
    optionCase(
      'refuses a multi-valued RDN out of DER order',
      {
        ...subjectWith([[O, { type: 'CN', value: CN }]]),
        mutateInfo: info => {
          const a = seq(oid(Oids.organization), str(StringTags.printable, 'system:nodes'));
          const b = seq(oid(Oids.commonName), str(StringTags.printable, CN));
          return replaceFirst(
            info,
            set(a, b),
            setInOrder(...[a, b].sort((x, y) => Buffer.compare(y, x))),
          );
        },
      },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an empty RDN',
      { rawSubject: seq(set(), encodeName([O]).subarray(2)) },
      fails('MalformedRequest'),
    ),
    optionCase('reads an empty subject (denied)', subjectWith([]), denied),
    optionCase(
      'reads an extra OU (denied)',
      subjectWith([O, { type: 'OU', value: 'x' }, { type: 'CN', value: CN }]),
      denied,
    ),
    optionCase(
      'reads an emailAddress attribute (denied)',
      subjectWith([
        O,
        { type: 'CN', value: CN },
        { type: 'emailAddress', value: 'a@b', tag: StringTags.ia5 },
      ]),
      denied,
    ),
    optionCase(
      'reads an unknown attribute type (denied)',
      subjectWith([O, { type: 'CN', value: CN }, { type: '1.2.3.4.5', value: 'x' }]),
      denied,
    ),
    optionCase('reads a CN whose value is an INTEGER (denied)', rawCn(int(7)), denied),
    optionCase(
      'reads a CN whose value is a context-tagged string (denied)',
      rawCn(ctx(0, text(CN), false)),
      denied,
    ),
    optionCase('reads a CN whose value is a SEQUENCE (denied)', rawCn(seq(utf8(CN))), denied),
    optionCase(
      'refuses a constructed UTF8String (BER)',
      rawCn(tlv(0x2c, utf8(CN))),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an AttributeTypeAndValue with a third element (Go allows it)',
      { rawSubject: seq(set(seq(oid(Oids.commonName), utf8(CN), utf8('extra')))) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an OID arc with a leading 0x80',
      { rawSubject: seq(set(seq(tlv(0x06, hex('5580 04 03')), utf8(CN)))) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an OID arc above 2^31 - 1, as Go does',
      { rawSubject: seq(set(seq(tlv(0x06, hex('2a 88 80 80 80 00')), utf8(CN)))) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an empty OID',
      { rawSubject: seq(set(seq(tlv(0x06, new Uint8Array(0)), utf8(CN)))) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an OID that ends inside an arc',
      { rawSubject: seq(set(seq(tlv(0x06, hex('5504 83')), utf8(CN)))) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a subject that is a SET',
      { rawSubject: set(set(seq(oid(Oids.commonName), utf8(CN)))) },
      fails('MalformedRequest'),
    ),
  ];
}

// ---- SANs (T8, T1, T3, T4) ----

function sanCase(name: string, sans: readonly SanSpec[], expect: CorpusExpectation): CorpusCase {
  return optionCase(name, { sans }, expect);
}

function sanCases(): CorpusCase[] {
  const dns = (value: string | Uint8Array): SanSpec => ({ kind: 'dns', value });
  const ip = (value: string | Uint8Array): SanSpec => ({ kind: 'ip', value });
  const deniedKind = validDenied('rule 10: SAN kind');
  const deniedIp = validDenied('rule 12: IP range');
  const cases: CorpusCase[] = [
    sanCase(
      'reads an email SAN (denied)',
      [dns(NODE), { kind: 'email', value: 'root@node-a' }],
      deniedKind,
    ),
    sanCase(
      'reads a URI SAN (denied)',
      [dns(NODE), { kind: 'uri', value: 'spiffe://cluster/ns/x' }],
      deniedKind,
    ),
    sanCase(
      'reads an otherName SAN (denied; Go drops it)',
      [
        dns(NODE),
        { kind: 'otherName', typeId: '1.3.6.1.4.1.311.20.2.3', value: utf8('admin@corp') },
      ],
      deniedKind,
    ),
    sanCase(
      'reads an x400Address SAN (denied; Go drops it)',
      [dns(NODE), { kind: 'x400Address', content: seq() }],
      deniedKind,
    ),
    sanCase(
      'reads a directoryName SAN (denied; Go drops it)',
      [dns(NODE), { kind: 'directoryName', name: [{ type: 'CN', value: 'kubernetes' }] }],
      deniedKind,
    ),
    sanCase(
      'reads an ediPartyName SAN (denied; Go drops it)',
      [dns(NODE), { kind: 'ediPartyName', content: explicit(1, utf8('x')) }],
      deniedKind,
    ),
    sanCase(
      'reads a registeredID SAN (denied; Go drops it)',
      [dns(NODE), { kind: 'registeredId', oid: '1.2.3.4' }],
      deniedKind,
    ),
    sanCase(
      'reads an unknown [9] SAN (denied)',
      [dns(NODE), { kind: 'raw', der: ctx(9, text('x'), false) }],
      deniedKind,
    ),
    sanCase(
      'reads a high-tag-number [31] SAN (denied; Go refuses it)',
      [dns(NODE), { kind: 'raw', der: hex('9f1f0178') }],
      deniedKind,
    ),
    sanCase('reads upper-case DNS names', [dns('NODE-A'), ip('10.0.0.1')], valid),
    sanCase('reads a DNS name with a trailing dot', [dns('node-a.')], valid),
    sanCase(
      'reads a wildcard DNS name (denied)',
      [dns('*.example.com')],
      validDenied('rule 11: wildcard'),
    ),
    sanCase(
      'reads a DNS name with a newline (denied)',
      [dns('node-a\nevil')],
      validDenied('rule 11: syntax'),
    ),
    sanCase('reads an empty DNS name (denied)', [dns('')], validDenied('rule 11: syntax')),
    sanCase(
      'reads a DNS name with a NUL (denied)',
      [dns('node-a\0.evil.com')],
      validDenied('rule 11: syntax'),
    ),
    sanCase(
      'reads kubernetes.default.svc in upper case (denied)',
      [dns('KUBERNETES.default.svc')],
      validDenied('rule 13: reserved'),
    ),
    sanCase('reads localhost (denied)', [dns('localhost')], validDenied('rule 13: reserved')),
    sanCase(
      'refuses a DNS name with a byte above 0x7F',
      [dns(hex('6ee96f6465'))],
      fails('MalformedExtension'),
    ),
    sanCase(
      'refuses an email with a byte above 0x7F',
      [{ kind: 'email', value: hex('61e940') }],
      fails('MalformedExtension'),
    ),
    sanCase(
      'refuses a constructed dNSName (Go silently drops it)',
      [{ kind: 'raw', der: ctx(2, ctx(2, text('evil'), false), true) }, dns(NODE)],
      fails('MalformedExtension'),
    ),
    sanCase(
      'refuses a primitive directoryName',
      [{ kind: 'raw', der: ctx(4, text('x'), false) }],
      fails('MalformedExtension'),
    ),
    sanCase(
      'refuses a universal-class GeneralName (Go drops it)',
      [dns(NODE), { kind: 'raw', der: octets(text('evil')) }],
      fails('MalformedExtension'),
    ),
    optionCase(
      'refuses data after GeneralNames (Go ignores it)',
      { sanValue: concat([seq(ctx(2, text(NODE), false)), nullValue()]) },
      fails('MalformedExtension'),
    ),
    optionCase('refuses an empty GeneralNames', { sanValue: seq() }, fails('MalformedExtension')),
    optionCase(
      'refuses a SAN value that is not a SEQUENCE',
      { sanValue: set(ctx(2, text(NODE), false)) },
      fails('MalformedExtension'),
    ),
    optionCase(
      'refuses a truncated GeneralName',
      { sanValue: tlvWith({ identifier: 0x30, content: hex('8205 6e6f64') }) },
      fails('MalformedExtension'),
    ),
    sanCase(
      'reads 33 SANs (denied: too many)',
      Array.from({ length: 33 }, (_, i) => dns(`n${i}.example.com`)),
      validDenied('rule 10: count'),
    ),
    sanCase(
      'reads 1000 SANs (denied: too many)',
      Array.from({ length: 1000 }, (_, i) => ip(`10.0.${i >> 8}.${i & 255}`)),
      validDenied('rule 10: count'),
    ),
    sanCase(
      'reads duplicate DNS names (denied)',
      [dns(NODE), dns('Node-A.')],
      validDenied('rule 10: duplicate'),
    ),
    sanCase(
      'reads a URI that Go cannot parse (denied)',
      [dns(NODE), { kind: 'uri', value: 'http://[::1' }],
      deniedKind,
    ),
    sanCase(
      'reads an IP of 5 octets (denied; Go refuses it)',
      [ip(hex('0a00000100'))],
      validDenied('rule 12: invalid IP'),
    ),
    sanCase(
      'reads an IP of 0 octets (denied; Go refuses it)',
      [ip(new Uint8Array(0))],
      validDenied('rule 12: invalid IP'),
    ),
    sanCase(
      'reads an IP with a netmask, 8 octets (denied; Go refuses it)',
      [ip(hex('0a000000ffffff00'))],
      validDenied('rule 12: invalid IP'),
    ),
  ];
  const ipCases: [string, string | Uint8Array, CorpusExpectation][] = [
    ['an IPv6 address', '2001:db8::1', valid],
    ['an IPv4-mapped IPv6 address as 16 octets', hex('00000000000000000000ffff0a000001'), valid],
    [
      'an IPv4-compatible IPv6 address (denied)',
      '::10.0.0.1',
      validDenied('rule 12: embedded IPv4'),
    ],
    ['an IPv6 address whose first zero run is the longest', '2001:db8:0:0:0:1:0:1', valid],
    ['an IPv6 address with two equal zero runs', '2001:db8:0:0:1:0:0:1', valid],
    ['an IPv6 address with a single zero group', '2001:db8:0:1:1:1:1:1', valid],
    ['an IPv6 address ending in zeros', '2001:db8:1:1:1:1:0:0', valid],
    ['an IPv6 address in upper case', '2001:DB8::ABCD', valid],
    ['the IPv6 loopback (denied)', '::1', deniedIp],
    ['the IPv6 unspecified address (denied)', '::', deniedIp],
    ['an IPv6 link-local address (denied)', 'fe80::1', deniedIp],
    ['an IPv6 multicast address (denied)', 'ff02::1', deniedIp],
    ['an IPv4-mapped loopback (denied)', '::ffff:127.0.0.1', deniedIp],
    ['the IPv4 loopback (denied)', '127.0.0.1', deniedIp],
    ['the IPv4 unspecified address (denied)', '0.0.0.0', deniedIp],
    ['the IPv4 broadcast address (denied)', '255.255.255.255', deniedIp],
    ['the cloud metadata address (denied)', '169.254.169.254', deniedIp],
    ['an IPv4 multicast address (denied)', '224.0.0.1', deniedIp],
  ];
  for (const [what, value, expect] of ipCases)
    cases.push(sanCase(`reads ${what}`, [dns(NODE), ip(value)], expect));
  return cases;
}

// ---- Keys (T10) ----

const RSA_PUBLIC = (modulus: Uint8Array, exponent: Uint8Array): Uint8Array =>
  seq(seq(oid(Oids.rsaEncryption), nullValue()), bitString(seq(modulus, exponent)));

function rsaModulus(): Uint8Array {
  const jwk = testKey({ type: 'rsa', bits: 2048 }).publicKey.export({ format: 'jwk' });
  return uintFromBytes(Buffer.from(jwk.n ?? '', 'base64url'));
}

function ecPoint(): Uint8Array {
  const jwk = testKey({ type: 'ecdsa', curve: 'P-256' }).publicKey.export({ format: 'jwk' });
  return concat([Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
}

const EC_SPKI = (params: Uint8Array, point: Uint8Array) =>
  seq(seq(oid(Oids.ecPublicKey), params), bitString(point));
const P256 = oid('1.2.840.10045.3.1.7');

function keyCases(): CorpusCase[] {
  const rsa = { type: 'rsa', bits: 2048 } as const;
  const n = rsaModulus();
  const point = ecPoint();
  const rsaSpki = (exponent: Uint8Array) => ({ key: rsa, spki: RSA_PUBLIC(n, exponent) });
  const offCurve = Uint8Array.from(point);
  offCurve[40] = (offCurve[40] ?? 0) ^ 1;
  const deniedKey = validDenied('rule 7: key');
  return [
    optionCase('reads RSA-2048 with SHA-256', { key: rsa }, valid),
    optionCase('reads RSA-2048 with SHA-384', { key: rsa, hash: 'SHA-384' }, valid),
    optionCase('reads RSA-2048 with SHA-512', { key: rsa, hash: 'SHA-512' }, valid),
    optionCase(
      'reads RSA-1024 (denied: too small)',
      { key: { type: 'rsa', bits: 1024 } },
      deniedKey,
    ),
    optionCase(
      'reads RSA-2048 with exponent 3 (denied)',
      { key: { type: 'rsa', bits: 2048, publicExponent: 3 } },
      deniedKey,
    ),
    optionCase('reads ECDSA P-384', { key: { type: 'ecdsa', curve: 'P-384' } }, valid),
    optionCase('reads ECDSA P-521', { key: { type: 'ecdsa', curve: 'P-521' } }, valid),
    optionCase('reads ECDSA P-256 signed with SHA-512', { hash: 'SHA-512' }, valid),
    optionCase(
      'reads ECDSA P-384 signed with SHA-256',
      { key: { type: 'ecdsa', curve: 'P-384' }, hash: 'SHA-256' },
      valid,
    ),
    optionCase('reads Ed25519', { key: { type: 'ed25519' } }, valid),
    optionCase(
      'reads an ECDSA key on secp256k1 (denied; Go refuses the curve)',
      { key: { type: 'ecdsa', curve: 'secp256k1' } },
      deniedKey,
    ),
    optionCase(
      'reads an Ed448 key (denied: unknown key and signature algorithm)',
      { key: { type: 'ed448' } },
      invalidDenied('rule 7: key'),
    ),
    optionCase('refuses a negative RSA exponent', rsaSpki(int(-65537)), fails('MalformedRequest')),
    optionCase('refuses a zero RSA exponent', rsaSpki(int(0)), fails('MalformedRequest')),
    optionCase(
      'refuses an RSA exponent of 2^64 + 1, as Go does',
      rsaSpki(int((1n << 64n) + 1n)),
      fails('MalformedRequest'),
    ),
    optionCase(
      'reads an RSA exponent of 2^63 - 1 (denied)',
      rsaSpki(int((1n << 63n) - 1n)),
      invalidDenied('rule 7: exponent'),
    ),
    optionCase(
      'reads an even RSA exponent (denied)',
      rsaSpki(int(65536)),
      invalidDenied('rule 7: exponent'),
    ),
    optionCase(
      'refuses a non-minimal RSA exponent',
      rsaSpki(tlv(0x02, hex('00010001'))),
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a negative RSA modulus',
      { key: rsa, spki: RSA_PUBLIC(tlv(0x02, Uint8Array.from(n.subarray(5))), int(65537)) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an RSA key without NULL parameters',
      { key: rsa, spki: seq(seq(oid(Oids.rsaEncryption)), bitString(seq(n, int(65537)))) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses data after RSAPublicKey (Go ignores it)',
      {
        key: rsa,
        spki: seq(
          seq(oid(Oids.rsaEncryption), nullValue()),
          bitString(concat([seq(n, int(65537)), nullValue()])),
        ),
      },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a compressed P-256 point',
      { spki: EC_SPKI(P256, concat([Uint8Array.of(0x02), point.subarray(0, 32)])) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses a P-256 point of the wrong length',
      { spki: EC_SPKI(P256, concat([Uint8Array.of(0x04), point, Uint8Array.of(0)])) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'reads a P-256 point that is not on the curve (its signature cannot verify)',
      { spki: EC_SPKI(P256, concat([Uint8Array.of(0x04), offCurve])) },
      { parse: 'ok', signature: 'invalid' },
    ),
    optionCase(
      'refuses implicit EC parameters (NULL)',
      { spki: EC_SPKI(nullValue(), concat([Uint8Array.of(0x04), point])) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses explicit EC curve parameters',
      {
        spki: EC_SPKI(
          seq(int(1), seq(oid('1.2.840.10045.1.1'), int(7))),
          concat([Uint8Array.of(0x04), point]),
        ),
      },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an Ed25519 key with parameters',
      {
        key: { type: 'ed25519' },
        spki: seq(seq(oid(Oids.ed25519), nullValue()), bitString(new Uint8Array(32))),
      },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses an Ed25519 key of 31 octets',
      {
        key: { type: 'ed25519' },
        spki: seq(seq(oid(Oids.ed25519)), bitString(new Uint8Array(31))),
      },
      fails('MalformedRequest'),
    ),
    optionCase(
      'reads a DSA key (denied: unknown algorithm)',
      {
        spki: seq(seq(oid('1.2.840.10040.4.1'), seq(int(23), int(11), int(2))), bitString(int(5))),
      },
      invalidDenied('rule 7: key'),
    ),
    optionCase(
      'refuses a public key BIT STRING with unused bits',
      {
        spki: EC_SPKI(P256, concat([Uint8Array.of(0x04), point])).map((b, i, all) =>
          i === all.length - 66 ? 1 : b,
        ),
      },
      fails('MalformedRequest'),
    ),
  ];
}

// ---- Signatures (rule 6) ----

const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
}

/** Replaces s by n - s in a DER ECDSA-Sig-Value: the other valid signature for the same message. */
function malleate(signature: Uint8Array): Uint8Array {
  const rLength = signature[3] ?? 0;
  const r = signature.subarray(4, 4 + rLength);
  const s = signature.subarray(4 + rLength + 2);
  const bytes = (v: bigint) =>
    Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'));
  return seq(uintFromBytes(r), uintFromBytes(bytes(P256_ORDER - toBigInt(s))));
}

function signatureCases(): CorpusCase[] {
  const rsa = { type: 'rsa', bits: 2048 } as const;
  const base = csr();
  const rsaBase = csr({ key: rsa });
  const deniedSig = validDenied('rule 6: signature algorithm');
  const invalid: CorpusExpectation = { parse: 'ok', signature: 'invalid' };
  const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), nullValue());
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const pss = (hash: string, mgfHash: string, salt: number) =>
    seq(
      oid(Oids.rsaPss),
      seq(
        explicit(0, seq(oid(hash), nullValue())),
        explicit(1, seq(oid(Oids.mgf1), seq(oid(mgfHash), nullValue()))),
        explicit(2, int(salt)),
      ),
    );
  const sha256 = '2.16.840.1.101.3.4.2.1';
  const sha384 = '2.16.840.1.101.3.4.2.2';
  return [
    optionCase('reads RSA-PSS with SHA-256', { key: rsa, rsaPss: true }, valid),
    optionCase('reads RSA-PSS with SHA-384', { key: rsa, rsaPss: true, hash: 'SHA-384' }, valid),
    optionCase('reads RSA-PSS with SHA-512', { key: rsa, rsaPss: true, hash: 'SHA-512' }, valid),
    optionCase(
      'refuses RSA-PSS parameters that spell out the default salt length',
      { key: rsa, rsaPss: { saltLength: 20 } },
      fails('MalformedRequest'),
    ),
    optionCase(
      'reads RSA-PSS with a 48-octet salt for SHA-256 as an unknown algorithm (denied)',
      { key: rsa, rsaPss: { saltLength: 48 } },
      invalidDenied('rule 6: PSS parameters'),
    ),
    optionCase(
      'reads RSA-PSS with a SHA-384 MGF as an unknown algorithm (denied)',
      { key: rsa, signatureAlgorithm: pss(sha256, sha384, 32) },
      invalidDenied('rule 6: PSS parameters'),
    ),
    optionCase(
      'refuses RSA-PSS parameters that spell out the default trailer',
      {
        key: rsa,
        signatureAlgorithm: seq(
          oid(Oids.rsaPss),
          seq(
            explicit(0, seq(oid(sha256), nullValue())),
            explicit(1, seq(oid(Oids.mgf1), seq(oid(sha256), nullValue()))),
            explicit(2, int(32)),
            explicit(3, int(1)),
          ),
        ),
      },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses RSA-PSS without parameters',
      { key: rsa, signatureAlgorithm: seq(oid(Oids.rsaPss)) },
      fails('MalformedRequest'),
    ),
    optionCase('reads RSA with SHA-1 (denied)', { key: rsa, hash: 'SHA-1' }, deniedSig),
    optionCase(
      'reads RSA with MD5 (denied; Go never verifies MD5)',
      { key: rsa, hash: 'MD5' },
      invalidDenied('rule 6: MD5'),
    ),
    optionCase('reads ECDSA with SHA-1 (denied)', { hash: 'SHA-1' }, deniedSig),
    optionCase(
      'refuses ECDSA signature parameters set to NULL (Go ignores them)',
      { signatureAlgorithm: seq(oid('1.2.840.10045.4.3.2'), nullValue()) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses RSA signature parameters left out (Go ignores them)',
      { key: rsa, signatureAlgorithm: seq(oid('1.2.840.113549.1.1.11')) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'refuses Ed25519 signature parameters',
      { key: { type: 'ed25519' }, signatureAlgorithm: seq(oid(Oids.ed25519), nullValue()) },
      fails('MalformedRequest'),
    ),
    optionCase(
      'reads an unknown signature algorithm (denied)',
      { signatureAlgorithm: seq(oid('1.2.840.10045.4.3.1')) },
      invalidDenied('rule 6: unknown algorithm'),
    ),
    optionCase(
      'reads an RSA signature labelled ECDSA; it must not verify',
      { key: rsa, signatureAlgorithm: ecdsaSha256 },
      invalid,
    ),
    optionCase(
      'reads an ECDSA signature labelled RSA; it must not verify',
      { signatureAlgorithm: sha256WithRsa },
      invalid,
    ),
    optionCase('reads a corrupted ECDSA signature', { corruptSignature: true }, invalid),
    optionCase('reads a corrupted RSA signature', { key: rsa, corruptSignature: true }, invalid),
    optionCase(
      'reads a corrupted Ed25519 signature',
      { key: { type: 'ed25519' }, corruptSignature: true },
      invalid,
    ),
    optionCase(
      'reads an RSA signature one octet short',
      { key: rsa, signature: rsaBase.signature.subarray(1) },
      invalid,
    ),
    optionCase(
      'reads an RSA signature with a leading zero octet added',
      { key: rsa, signature: concat([Uint8Array.of(0), rsaBase.signature]) },
      invalid,
    ),
    optionCase(
      'reads an ECDSA signature with bytes after the SEQUENCE',
      { signature: concat([base.signature, Uint8Array.of(0)]) },
      invalid,
    ),
    optionCase('reads an empty signature', { signature: new Uint8Array(0) }, invalid),
    optionCase(
      'reads another request’s signature',
      { signature: csr({ sans: [{ kind: 'dns', value: 'x' }] }).signature },
      invalid,
    ),
    optionCase(
      'reads the high-S twin of a valid ECDSA signature (valid in Go and OpenSSL alike)',
      { signature: malleate(base.signature) },
      valid,
    ),
  ];
}

// ---- Size and shape (T12, T15) ----

function nested(depth: number): Uint8Array {
  let inner = nullValue();
  for (let i = 0; i < depth; i++) inner = seq(inner);
  return inner;
}

function sizeCases(): CorpusCase[] {
  const longOid = `1.2.${Array.from({ length: 8000 }, () => '1').join('.')}`;
  return [
    optionCase(
      'reads an extension OID of 8000 arcs in linear time (denied)',
      { extensions: [{ oid: longOid, value: nullValue() }] },
      validDenied('rule 7a: unknown extension'),
    ),
    optionCase(
      'reads an extension nested 5000 deep without descending into it (denied)',
      { extensions: [{ oid: '1.2.3.4', value: nested(5000) }] },
      validDenied('rule 7a: unknown extension'),
    ),
    optionCase(
      'reads a subject value nested 5000 deep without descending into it (denied)',
      subjectWith([O, { type: 'CN', value: '', rawValue: nested(5000) }]),
      validDenied('rule 8: subject'),
    ),
    optionCase(
      'refuses a request whose DER exceeds 64 KiB',
      { extensions: [{ oid: '1.2.3.4', value: octets(new Uint8Array(50000)) }] },
      fails('RequestTooLarge'),
    ),
    optionCase(
      'reads 200 attributes (denied)',
      {
        attributes: Array.from({ length: 200 }, (_, i) => ({
          oid: `1.2.3.${i}`,
          values: [nullValue()],
        })),
      },
      validDenied('rule 5: attributes'),
    ),
  ];
}

// ---- Mutants of a real kubelet request ----

function kubeletBase(): BuiltCsr {
  return kubeletCsr({
    nodeName: NODE,
    dnsNames: [NODE, `${NODE}.example.com`],
    ips: ['10.0.0.1', '2001:db8::1'],
  });
}

function truncationCases(base: BuiltCsr): CorpusCase[] {
  const cases: CorpusCase[] = [];
  for (let n = 0; n < base.der.length; n++) {
    cases.push(
      derCase(
        `refuses the kubelet request's DER cut to ${n} bytes`,
        base.der.subarray(0, n),
        fails('MalformedRequest'),
      ),
    );
  }
  const pem = base.pemText;
  for (let n = 0; n < pem.length; n++) {
    const expect = n === pem.length - 1 ? valid : fails('MalformedPem');
    cases.push(
      pemCase(`handles the kubelet request's PEM cut to ${n} characters`, pem.slice(0, n), expect),
    );
  }
  return cases;
}

function bitFlipCases(base: BuiltCsr): CorpusCase[] {
  const cases: CorpusCase[] = [];
  for (let i = 0; i < base.der.length; i++) {
    const der = Uint8Array.from(base.der);
    der[i] = (der[i] ?? 0) ^ (1 << (i % 8));
    cases.push(
      derCase(`rejects the kubelet request with DER bit ${i % 8} of byte ${i} flipped`, der, {
        parse: 'rejected',
      }),
    );
  }
  for (let i = 0; i < base.pem.length; i++) {
    const pem = Uint8Array.from(base.pem);
    pem[i] = (pem[i] ?? 0) ^ (1 << ((i * 3) % 7));
    cases.push(
      pemCase(`rejects the kubelet request with PEM bit ${(i * 3) % 7} of byte ${i} flipped`, pem, {
        parse: 'rejected',
      }),
    );
  }
  return cases;
}

function kubeletCases(base: BuiltCsr): CorpusCase[] {
  const other = (options: Parameters<typeof kubeletCsr>[0]) => kubeletCsr(options).pem;
  return [
    pemCase('reads a kubelet request with DNS names and IPs', base.pem, valid),
    pemCase(
      'reads a kubelet request with only an IPv4 address',
      other({ nodeName: NODE, ips: ['10.0.0.1'] }),
      valid,
    ),
    pemCase(
      'reads a kubelet request with an IPv4-mapped address (Go writes 4 octets)',
      other({ nodeName: NODE, ips: ['::ffff:10.0.0.9'] }),
      valid,
    ),
    pemCase(
      'reads a kubelet request with 20 addresses',
      other({
        nodeName: 'ip-10-0-0-1.ec2.internal',
        dnsNames: ['ip-10-0-0-1.ec2.internal'],
        ips: Array.from({ length: 19 }, (_, i) => `10.0.1.${i}`),
      }),
      valid,
    ),
  ];
}

/** Every corpus case, in a stable order. Builds keys on first use (about a second, once per process). */
export function buildCorpus(): CorpusCase[] {
  const base = kubeletBase();
  return [
    ...kubeletCases(base),
    ...pemCases(),
    ...structureCases(),
    ...extensionCases(),
    ...subjectCases(),
    ...sanCases(),
    ...keyCases(),
    ...signatureCases(),
    ...sizeCases(),
    ...truncationCases(base),
    ...bitFlipCases(base),
  ];
}
