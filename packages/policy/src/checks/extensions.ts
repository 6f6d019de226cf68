// Rule 7a: the extensionRequest holds only subjectAltName, which is all a kubelet sends. The signer
// takes key usages from spec.usages and drops other extensions, but an approver must not approve a
// request that asks for more than it will get (a custom signer might copy them).
import { parsedCsr, show, violation } from './context.ts';
import type { CheckContext, CheckResult } from './context.ts';

export const OID_SUBJECT_ALT_NAME = '2.5.29.17';

const KNOWN_EXTENSIONS: Readonly<Record<string, string>> = {
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.15': 'keyUsage',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.30': 'nameConstraints',
  '2.5.29.31': 'cRLDistributionPoints',
  '2.5.29.32': 'certificatePolicies',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.37': 'extKeyUsage',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess',
};

/** Rule 7a: no requested extension other than subjectAltName. */
export function checkExtensions(ctx: CheckContext): CheckResult {
  const csr = parsedCsr(ctx);
  if (csr === undefined) return undefined;
  return csr.extensions
    .filter(extension => extension.oid !== OID_SUBJECT_ALT_NAME)
    .map(extension => {
      const name = KNOWN_EXTENSIONS[extension.oid];
      const label = name === undefined ? show(extension.oid) : `${name} (${extension.oid})`;
      const critical = extension.critical ? ', critical' : '';
      return violation(
        'DisallowedExtension',
        `requested extension ${label}${critical} is not allowed`,
      );
    });
}
