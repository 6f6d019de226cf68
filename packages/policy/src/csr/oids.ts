// The object identifiers the CSR reader knows, in dotted form.

export const Oid = {
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',

  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',

  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',

  md5WithRsa: '1.2.840.113549.1.1.4',
  sha1WithRsa: '1.2.840.113549.1.1.5',
  sha1WithRsaIso: '1.3.14.3.2.29',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  rsaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecdsaWithSha1: '1.2.840.10045.4.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',

  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

/** Attribute types a subject commonly holds, so that reading them costs a lookup. */
const NAME_ATTRIBUTES = [
  '2.5.4.3',
  '2.5.4.5',
  '2.5.4.6',
  '2.5.4.7',
  '2.5.4.8',
  '2.5.4.10',
  '2.5.4.11',
  '1.2.840.113549.1.9.1',
];

function encodeArcs(dotted: string): number[] {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const groups = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128))
      groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return out;
}

function hashBytes(data: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (data[i] ?? 0), 0x01000193);
  return h >>> 0;
}

const KNOWN = new Map<number, { readonly bytes: Uint8Array; readonly text: string }>();
for (const text of [...Object.values(Oid), ...NAME_ATTRIBUTES]) {
  const bytes = Uint8Array.from(encodeArcs(text));
  KNOWN.set(hashBytes(bytes, 0, bytes.length), { bytes, text });
}

/**
 * The dotted text of a well-known OID from its content octets, or undefined (then the caller decodes
 * the arcs). Exact: the octets are compared, the hash only finds the candidate.
 */
export function knownOidText(data: Uint8Array, start: number, end: number): string | undefined {
  const entry = KNOWN.get(hashBytes(data, start, end));
  if (entry?.bytes.length !== end - start) return undefined;
  for (let i = 0; i < entry.bytes.length; i++)
    if (entry.bytes[i] !== data[start + i]) return undefined;
  return entry.text;
}
