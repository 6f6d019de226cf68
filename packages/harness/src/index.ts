// @stampede/harness: a real control plane (etcd, kube-apiserver, kube-controller-manager) and a
// real Redis for tests, the demo and load tests. Test support only: never import it from a
// production service (it spawns processes, holds CA keys in memory and installs exit hooks).
export { startControlPlane, ControlPlane } from './controlplane.ts';
export type { ControlPlaneOptions, ControlPlanePorts, StartupTimings } from './controlplane.ts';
export { startRedis, RedisServer } from './redis.ts';
export type { RedisOptions } from './redis.ts';
export { RedisSentinel } from './sentinel.ts';
export type { SentinelOptions } from './sentinel.ts';
export { startJaeger, Jaeger } from './jaeger.ts';
export type { JaegerOptions, JaegerSpan } from './jaeger.ts';
export { KubeletEmulator, CsrNotIssuedError, servingSans, parseSubjectAltName } from './kubelet.ts';
export type {
  KubeletEmulatorOptions,
  KubeletHarness,
  CreateCsrOptions,
  CsrTimings,
  IssuedServingCertificate,
} from './kubelet.ts';
export { KubeClient, KubeApiError, MERGE_PATCH, APPLY_PATCH } from './kube.ts';
export type {
  KubeCredentials,
  KubeResponse,
  KubeStatus,
  WatchEvent,
  RequestOptions,
} from './kube.ts';
export {
  CSR_PATH,
  KUBELET_SERVING_SIGNER,
  KUBELET_SERVING_USAGES,
  csrManifest,
  condition,
  issuedCertificate,
  setApprovalCondition,
} from './csr.ts';
export type {
  CertificateSigningRequest,
  CsrCondition,
  KubeNode,
  NodeAddress,
  ObjectMeta,
} from './csr.ts';
export { ClusterPki } from './cluster-pki.ts';
export type { ClientIdentity, IssueOptions, PkiPaths } from './cluster-pki.ts';
export { CertificateAuthority, createCsr, generateKeyPair, toPem, fromPem } from './pki.ts';
export type {
  KeyPair,
  DistinguishedName,
  CertificateTemplate,
  CsrTemplate,
  IssuedCertificate,
} from './pki.ts';
export { SERVICE_ACCOUNTS, defaultNodeAddresses } from './fixtures.ts';
export type { CreateNodeOptions, StampedeService, TokenOptions } from './fixtures.ts';
export { kubeconfigYaml, writeKubeconfig } from './kubeconfig.ts';
export { applyFile, applyManifests, parseManifests, rbacDir, repoRoot } from './manifests.ts';
export { redisCommand } from './resp.ts';
export type { RespValue } from './resp.ts';
export {
  killEverythingNow,
  reaperProcessId,
  registerProcess,
  unregisterProcess,
} from './teardown.ts';
export { freePort } from './util.ts';
export { resolveHelmBinary, resolvePrometheusBinary, resolvePromtoolBinary } from './binary.ts';
export { System, settledAs, until } from './system.ts';
export type { ServiceKind, ServiceProcess, SystemOptions } from './system.ts';
export { startKubelet, RealKubelet } from './real-kubelet.ts';
export type { RealKubeletHarness, StartKubeletOptions, StoredCertificate } from './real-kubelet.ts';
export { claimNodeIp, freeNodeIps, releaseNodeIp } from './node-ips.ts';
export { servedCertificate } from './served-certificate.ts';
export { backdateInEtcd } from './backdate.ts';
export { AUDIT_POLICY, AuditLog, parseAuditLog } from './audit-log.ts';
export type { AuditEvent } from './audit-log.ts';
export { assertInvariants, checkInvariants, summarize, violations } from './audit-invariants.ts';
export type {
  ApprovalWrite,
  CsrAudit,
  CsrExpectation,
  Decision,
  Expected,
  InvariantReport,
} from './audit-invariants.ts';
export {
  FaultFleet,
  Mix,
  OTHER_SIGNER,
  assertSettled,
  partlyDecided,
  writtenTo,
} from './fault-mix.ts';
export type { MixMember } from './fault-mix.ts';
export { FaultyTcpProxy } from './faulty-tcp-proxy.ts';
export { rejectedRequestsOf, rejectRequestsOf } from './flow-control.ts';
