// A fresh W3C trace context per enqueue, so the watcher's log line and the worker's share a
// trace id. (When the OpenTelemetry SDK is wired in, the active span's context replaces this.)
import { randomBytes } from 'node:crypto';
import type { TraceCarrier } from '@stampede/contracts';

export function newTraceContext(): TraceCarrier {
  return {
    traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
  };
}
