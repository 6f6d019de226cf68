export type * from './types.ts';
export { parseCsr, parseCsrDer } from './csr/pkcs10.ts';
export { MAX_REQUEST_BYTES } from './csr/pem.ts';
