// Rule 8: the subject is exactly CN=<spec.username>, O=system:nodes, read from the raw RDNs so that
// no second CN or extra attribute can hide behind Go's lossy pkix.Name.
import { parsedCsr, show, violation } from './context.ts';
import type { CheckContext, CheckResult } from './context.ts';
import type { RdnAttribute, Violation } from '../types.ts';

const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';
const NODES_ORGANIZATION = 'system:nodes';
const TAG_UTF8 = 12;
const TAG_PRINTABLE = 19;
const NAMES: Readonly<Record<string, string>> = { [OID_CN]: 'CN', [OID_O]: 'O' };

function encodingProblem(attribute: RdnAttribute): Violation | undefined {
  if (attribute.tag === TAG_UTF8 || attribute.tag === TAG_PRINTABLE) return undefined;
  const name = NAMES[attribute.oid] ?? attribute.oid;
  return violation(
    'InvalidSubject',
    `subject ${name} is encoded with ASN.1 tag ${attribute.tag}, not UTF8String or PrintableString`,
  );
}

function countProblem(name: string, count: number): Violation | undefined {
  if (count === 1) return undefined;
  return violation('InvalidSubject', `subject has ${count} ${name} attributes, not exactly one`);
}

/** Rule 8: one CN, one O, nothing else, one attribute per RDN, string types only. */
export function checkSubject(ctx: CheckContext): CheckResult {
  const csr = parsedCsr(ctx);
  if (csr === undefined) return undefined;
  const found: Violation[] = [];
  const attributes = csr.subject.flat();
  if (csr.subject.some(rdn => rdn.length !== 1)) {
    found.push(violation('InvalidSubject', 'subject has an RDN with more than one attribute'));
  }
  for (const attribute of attributes) {
    if (NAMES[attribute.oid] === undefined) {
      found.push(
        violation('InvalidSubject', `subject attribute ${show(attribute.oid)} is not allowed`),
      );
      continue;
    }
    const problem = encodingProblem(attribute);
    if (problem !== undefined) found.push(problem);
  }
  const commonNames = attributes.filter(a => a.oid === OID_CN);
  const organizations = attributes.filter(a => a.oid === OID_O);
  for (const problem of [
    countProblem('CN', commonNames.length),
    countProblem('O', organizations.length),
  ]) {
    if (problem !== undefined) found.push(problem);
  }
  for (const cn of commonNames.filter(a => a.value !== ctx.request.username)) {
    const message = `subject CN ${show(cn.value)} is not the requester ${show(ctx.request.username)}`;
    found.push(violation('CommonNameMismatch', message));
  }
  for (const o of organizations.filter(a => a.value !== NODES_ORGANIZATION)) {
    found.push(
      violation('OrganizationMismatch', `subject O ${show(o.value)} is not ${NODES_ORGANIZATION}`),
    );
  }
  return found;
}
