// The cluster's Service IP ranges, which no Node owns (rule 13): every ServiceCIDR's spec.cidrs from
// a list/watch, plus the `kubernetes` Service's ClusterIPs, read at most once a minute. Where the
// cluster serves no ServiceCIDR (or has none) that Service is the only answer and must be read;
// otherwise it is a second opinion and a failed read of it does not hold a decision up. A ServiceCIDR
// being deleted still counts: its addresses stay allocated until its finalizer runs.
import type { KubeClient, ListWatchStats, ServiceCidr } from '@stampede/kube';

export type RangesFact =
  | { readonly state: 'known'; readonly value: readonly string[] }
  | { readonly state: 'unavailable'; readonly reason: string };

export interface ServiceRanges {
  /** The ranges now, or why they cannot be known (a retry, never an approval). */
  current(): Promise<RangesFact>;
  stats(): ListWatchStats;
  readonly done: Promise<void>;
}

/** How long a fallback answer (the `kubernetes` Service) is reused. */
const FALLBACK_TTL_MS = 60_000;

export function projectServiceCidr(object: ServiceCidr): readonly string[] | undefined {
  const cidrs = object.spec?.cidrs;
  return Array.isArray(cidrs) ? cidrs.filter(c => typeof c === 'string') : undefined;
}

export function startServiceRanges(options: {
  readonly kube: Pick<KubeClient, 'watchServiceCidrs' | 'getService'>;
  readonly signal: AbortSignal;
  readonly now: () => number;
}): ServiceRanges {
  const listWatch = options.kube.watchServiceCidrs<readonly string[]>({
    signal: options.signal,
    project: projectServiceCidr,
  });
  let fallback: { readonly atMs: number; readonly ips: readonly string[] } | undefined;

  let reading: Promise<RangesFact> | undefined;

  /** The cached ClusterIPs, or one GET shared by every job that asks while it runs. */
  function kubernetesServiceIps(): Promise<RangesFact> {
    if (fallback !== undefined && options.now() - fallback.atMs < FALLBACK_TTL_MS) {
      return Promise.resolve({ state: 'known', value: fallback.ips });
    }
    // Under the watches' signal, not the asking job's: one job's abort must not fail the others.
    reading ??= readKubernetesService(options.signal).finally(() => {
      reading = undefined;
    });
    return reading;
  }

  async function readKubernetesService(signal: AbortSignal): Promise<RangesFact> {
    try {
      const service = await options.kube.getService('default', 'kubernetes', { signal });
      const spec = service?.spec;
      const ips = (
        spec?.clusterIPs ?? (spec?.clusterIP === undefined ? [] : [spec.clusterIP])
      ).filter(ip => ip !== '' && ip !== 'None');
      // Every cluster has this Service; without it nothing says where the Service range is.
      if (ips.length === 0) {
        return { state: 'unavailable', reason: 'the kubernetes Service has no ClusterIP' };
      }
      fallback = { atMs: options.now(), ips };
      return { state: 'known', value: ips };
    } catch (error) {
      if (signal.aborted) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      return { state: 'unavailable', reason: `GET Service default/kubernetes failed: ${detail}` };
    }
  }

  return {
    done: listWatch.done,
    stats: () => listWatch.stats(),
    async current() {
      const stats = listWatch.stats();
      // Before the first LIST the ranges are unknown: the kubernetes Service IP alone would be a
      // narrower answer than the truth. Only a cluster that does not serve ServiceCIDRs gets it.
      if (!stats.synced && stats.lastErrorStatus !== 404) {
        return { state: 'unavailable', reason: 'the ServiceCIDR watch has not synced yet' };
      }
      const cidrs = stats.synced ? [...listWatch.store.values()].flat() : [];
      const service = await kubernetesServiceIps();
      if (service.state === 'known') return { state: 'known', value: [...cidrs, ...service.value] };
      return cidrs.length > 0 ? { state: 'known', value: cidrs } : service;
    },
  };
}
