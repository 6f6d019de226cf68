// API Priority and Fairness as a fault: a priority level with no seats of its own, which rejects at
// once with 429 Retry-After, and a flow schema sending one stampede service's requests there. The
// API server answers exactly as it does to a client it sheds under load, for that client only.
import type { ControlPlane } from './controlplane.ts';
import type { StampedeService } from './fixtures.ts';
import { until } from './system.ts';

const FLOWCONTROL = '/apis/flowcontrol.apiserver.k8s.io/v1';
const NAMESPACE = 'stampede-system';

/**
 * Rejects every request of `service` with 429 until the returned function is called; resolves once
 * the API server applies it (it reads flow-control objects asynchronously). Calling the returned
 * function again does nothing.
 */
export async function rejectRequestsOf(
  cp: ControlPlane,
  service: StampedeService,
): Promise<() => Promise<void>> {
  const name = `stampede-closed-${service}`;
  await cp.admin.post(`${FLOWCONTROL}/prioritylevelconfigurations`, {
    metadata: { name },
    spec: {
      type: 'Limited',
      limited: {
        nominalConcurrencyShares: 0,
        lendablePercent: 0,
        borrowingLimitPercent: 0,
        limitResponse: { type: 'Reject' },
      },
    },
  });
  const account = { namespace: NAMESPACE, name: `stampede-${service}` };
  await cp.admin.post(`${FLOWCONTROL}/flowschemas`, {
    metadata: { name },
    spec: {
      priorityLevelConfiguration: { name },
      matchingPrecedence: 100,
      distinguisherMethod: { type: 'ByUser' },
      rules: [
        {
          subjects: [{ kind: 'ServiceAccount', serviceAccount: account }],
          resourceRules: [
            {
              verbs: ['*'],
              apiGroups: ['*'],
              resources: ['*'],
              clusterScope: true,
              namespaces: ['*'],
            },
          ],
        },
      ],
    },
  });
  let opened = false;
  const open = async (): Promise<void> => {
    if (opened) return;
    opened = true;
    await cp.admin.delete(`${FLOWCONTROL}/flowschemas/${name}`);
    await cp.admin.delete(`${FLOWCONTROL}/prioritylevelconfigurations/${name}`);
  };
  const asService = cp.client(cp.credentials({ token: await cp.serviceToken(service) }));
  try {
    await until(`${service} refused with 429`, async () => {
      const burst = Array.from({ length: 10 }, () =>
        asService.request('GET', '/api/v1/nodes?limit=1'),
      );
      return (await Promise.all(burst)).some(response => response.status === 429);
    });
  } catch (error) {
    await open();
    throw error;
  } finally {
    asService.close();
  }
  return open;
}

/**
 * How many of `service`'s requests the API server has rejected since `rejectRequestsOf` began, by its
 * own counter (apiserver_flowcontrol_rejected_requests_total of the closed priority level).
 */
export async function rejectedRequestsOf(
  cp: ControlPlane,
  service: StampedeService,
): Promise<number> {
  const response = await cp.admin.request<string>('GET', '/metrics');
  if (response.status !== 200) throw new Error(`GET /metrics: ${response.status}`);
  const level = `priority_level="stampede-closed-${service}"`;
  return response.body
    .split('\n')
    .filter(line => line.startsWith('apiserver_flowcontrol_rejected_requests_total{'))
    .filter(line => line.includes(level))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf('}') + 1)), 0);
}
