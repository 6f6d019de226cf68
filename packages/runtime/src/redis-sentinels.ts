// REDIS_SENTINELS: where the services find their Redis primary when it runs under Sentinel.
// Parsed here with the rest of the environment; @stampede/queue opens the connection.

/** `REDIS_SENTINELS`: the monitored primary's name and the sentinels to ask. */
export interface SentinelConfig {
  readonly primaryName: string;
  readonly sentinels: readonly { readonly host: string; readonly port: number }[];
  /** For sentinels that require AUTH (`REDIS_SENTINEL_PASSWORD`). */
  readonly password?: string | undefined;
}

/**
 * Parses `name@host:port[,host:port…]` (IPv6 hosts in brackets), or returns why it can't. One
 * variable, so the primary's name can never be missing while sentinels are given.
 */
export function parseSentinels(text: string): SentinelConfig | { readonly error: string } {
  const at = text.indexOf('@');
  const primaryName = at < 0 ? '' : text.slice(0, at);
  if (!/^[A-Za-z0-9._-]+$/.test(primaryName))
    return { error: 'must be name@host:port[,host:port…] (the primary name sentinels monitor)' };
  const sentinels: { host: string; port: number }[] = [];
  for (const part of text.slice(at + 1).split(',')) {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(part.trim());
    const port = Number(match?.[2]);
    if (match?.[1] === undefined || port < 1 || port > 65_535)
      return { error: `"${part}" is not host:port` };
    sentinels.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  return { primaryName, sentinels };
}

/** For logs: `name@host:port,…` without the password, or undefined without sentinels. */
export function sentinelsText(sentinel: SentinelConfig | undefined): string | undefined {
  if (sentinel === undefined) return undefined;
  const hosts = sentinel.sentinels.map(({ host, port }) =>
    host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
  );
  return `${sentinel.primaryName}@${hosts.join(',')}`;
}

/** The parsed REDIS_SENTINELS with REDIS_SENTINEL_PASSWORD folded in; undefined without sentinels. */
export function withSentinelPassword(
  sentinels: SentinelConfig | undefined,
  password: string | undefined,
): SentinelConfig | undefined {
  if (sentinels === undefined || password === undefined) return sentinels;
  return { ...sentinels, password };
}
