export * as der from './der.ts';
export { parseIpBytes } from './ip.ts';
export { keyPairFrom, testKey, type KeyPair, type KeySpec } from './keys.ts';
export {
  Oids,
  buildCsr,
  encodeExtension,
  encodeGeneralName,
  encodeName,
  encodePem,
  kubeletCsr,
  type AttributeSpec,
  type BuildCsrOptions,
  type BuiltCsr,
  type ExtensionSpec,
  type HashName,
  type KubeletCsrOptions,
  type PemOptions,
  type RdnSpec,
  type SanSpec,
} from './csr.ts';
export {
  buildCorpus,
  type CorpusCase,
  type CorpusExpectation,
  type FailureCode,
} from './corpus.ts';
export {
  csrparseBinary,
  runGoOracle,
  type GoAttribute,
  type GoCsr,
  type GoRequest,
  type GoResult,
} from './go-oracle.ts';
