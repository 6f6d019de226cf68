// A private Jaeger (go/jaeger: cmd/jaeger, the all-in-one v2 binary on the OpenTelemetry
// Collector) for tests and the demo: an OTLP/HTTP receiver and the query API + UI on free loopback
// ports, spans in memory. Only what we use is switched on: no gRPC receivers, no Jaeger/Zipkin
// receivers, no sampling server, no self-telemetry ports, so nothing clashes with a second one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveJaegerBinary } from './binary.ts';
import { ManagedProcess, ProcessExitedError, waitUntil } from './process.ts';
import {
  freePort,
  isAddressInUse,
  removeTempDir,
  makeTempDir,
  stderrLogger,
  type Logger,
} from './util.ts';

export interface JaegerOptions {
  /** Default: $STAMPEDE_JAEGER_BIN, else scripts/build-jaeger.sh. */
  readonly binary?: string;
  /** Progress lines; default stderr. */
  readonly log?: Logger;
}

/** One span as Jaeger's query API returns it, flattened. */
export interface JaegerSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** The CHILD_OF reference's span id; '' for a root. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly service: string;
  /** OpenTelemetry span kind as Jaeger records it: 'producer', 'consumer', 'client', … ('' = internal). */
  readonly kind: string;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly startMicros: number;
  readonly durationMicros: number;
}

interface QueryTag {
  readonly key: string;
  readonly value: string | number | boolean;
}
interface QuerySpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references?: readonly { refType: string; spanID: string }[];
  readonly processID: string;
  readonly tags?: readonly QueryTag[];
  readonly startTime: number;
  readonly duration: number;
}
interface QueryTrace {
  readonly traceID: string;
  readonly spans: readonly QuerySpan[];
  readonly processes: Readonly<Record<string, { serviceName: string }>>;
}

function flatten(trace: QueryTrace): JaegerSpan[] {
  return trace.spans.map(span => {
    const attributes: Record<string, string | number | boolean> = {};
    for (const tag of span.tags ?? []) attributes[tag.key] = tag.value;
    const kind = attributes['span.kind'];
    const parent = span.references?.find(r => r.refType === 'CHILD_OF')?.spanID;
    // Jaeger's JSON drops leading zeros from ids; W3C (and our logs) keep all 32 / 16 digits.
    return {
      traceId: span.traceID.padStart(32, '0'),
      spanId: span.spanID.padStart(16, '0'),
      parentSpanId: parent === undefined ? '' : parent.padStart(16, '0'),
      name: span.operationName,
      service: trace.processes[span.processID]?.serviceName ?? '',
      kind: typeof kind === 'string' ? kind : '',
      attributes,
      startMicros: span.startTime,
      durationMicros: span.duration,
    };
  });
}

function config(ports: { otlp: number; http: number; grpc: number }): string {
  return `# Written by @stampede/harness: in-memory Jaeger on loopback only.
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_storage:
    backends:
      memory_store:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memory_store
    enable_tracing: false
    http:
      endpoint: 127.0.0.1:${ports.http}
    grpc:
      endpoint: 127.0.0.1:${ports.grpc}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${ports.otlp}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memory_store
`;
}

export class Jaeger {
  readonly dir: string;
  readonly #log: Logger;
  readonly #binary: string;
  #ports = { otlp: 0, http: 0, grpc: 0 };
  #proc: ManagedProcess | undefined;

  constructor(binary: string, log: Logger) {
    this.#binary = binary;
    this.#log = log;
    this.dir = makeTempDir('jaeger');
  }

  /** OTLP/HTTP base URL, for OTEL_EXPORTER_OTLP_ENDPOINT (the SDK appends /v1/traces). */
  get otlpEndpoint(): string {
    return `http://127.0.0.1:${this.#ports.otlp}`;
  }

  /** The Jaeger UI (and its query API under /api). */
  get uiUrl(): string {
    return `http://127.0.0.1:${this.#ports.http}`;
  }

  get logPath(): string {
    return join(this.dir, 'jaeger.log');
  }

  get pid(): number | undefined {
    return this.#proc?.running === true ? this.#proc.pid : undefined;
  }

  /** The UI page of one trace. */
  traceUrl(traceId: string): string {
    return `${this.uiUrl}/trace/${traceId}`;
  }

  async start(): Promise<void> {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      this.#ports = { otlp: await freePort(), http: await freePort(), grpc: await freePort() };
      const configPath = join(this.dir, 'config.yaml');
      writeFileSync(configPath, config(this.#ports));
      const proc = new ManagedProcess('jaeger', this.#binary, ['--config', configPath], {
        logPath: this.logPath,
        cwd: this.dir,
      });
      this.#proc = proc;
      try {
        await waitUntil(
          'the Jaeger query API',
          async () => ((await fetch(`${this.uiUrl}/api/services`)).ok ? true : undefined),
          { timeoutMs: 30_000, intervalMs: 50, process: proc },
        );
        break;
      } catch (error) {
        const clash = error instanceof ProcessExitedError && isAddressInUse(proc.tail());
        await proc.stop();
        if (!clash || attempt >= 5) throw error;
        this.#log('jaeger: a port was taken, retrying on others');
      }
    }
    this.#log(
      `jaeger: UI ${this.uiUrl}, OTLP ${this.otlpEndpoint}, ready in ${Math.round(performance.now() - started)} ms`,
    );
  }

  /** The spans of one trace, or undefined while Jaeger has none of it. */
  async trace(traceId: string): Promise<JaegerSpan[] | undefined> {
    const response = await fetch(`${this.uiUrl}/api/traces/${traceId}`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`jaeger: GET /api/traces/${traceId}: ${response.status}`);
    const body = (await response.json()) as { data?: QueryTrace[] };
    const trace = body.data?.[0];
    return trace === undefined ? undefined : flatten(trace);
  }

  /** Traces holding a span of `service` with every tag in `tags` (Jaeger's own search). */
  async findTraces(
    service: string,
    tags: Readonly<Record<string, string>> = {},
  ): Promise<JaegerSpan[][]> {
    const query = new URLSearchParams({
      service,
      tags: JSON.stringify(tags),
      lookback: '1h',
      limit: '100',
    });
    const response = await fetch(`${this.uiUrl}/api/traces?${query.toString()}`);
    if (!response.ok)
      throw new Error(`jaeger: GET /api/traces?${query.toString()}: ${response.status}`);
    const body = (await response.json()) as { data?: QueryTrace[] | null };
    return (body.data ?? []).map(flatten);
  }

  /** The services Jaeger has spans from. */
  async services(): Promise<string[]> {
    const response = await fetch(`${this.uiUrl}/api/services`);
    const body = (await response.json()) as { data?: string[] | null };
    return body.data ?? [];
  }

  /** Stops Jaeger and deletes its directory (unless STAMPEDE_HARNESS_KEEP=1). */
  async stop(): Promise<void> {
    await this.#proc?.stop();
    removeTempDir(this.dir);
  }
}

/**
 * Starts a private Jaeger, building it first if needed (minutes when cold). `cachedOnly` returns
 * undefined instead of building, for callers to which Jaeger is optional (the demo).
 */
export async function startJaeger(options?: JaegerOptions): Promise<Jaeger>;
export async function startJaeger(
  options: JaegerOptions & { cachedOnly: true },
): Promise<Jaeger | undefined>;
export async function startJaeger(
  options: JaegerOptions & { cachedOnly?: boolean } = {},
): Promise<Jaeger | undefined> {
  const log = options.log ?? stderrLogger;
  const binary =
    options.binary ??
    (options.cachedOnly === true
      ? await resolveJaegerBinary(log, true)
      : await resolveJaegerBinary(log));
  if (binary === undefined) return undefined;
  const jaeger = new Jaeger(binary, log);
  try {
    await jaeger.start();
  } catch (error) {
    await jaeger.stop();
    throw error;
  }
  return jaeger;
}
