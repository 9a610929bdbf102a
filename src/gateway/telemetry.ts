import { createHmac } from 'node:crypto';
import { SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Database } from './database';
import { AuditStore, type AuditFinish, type AuditStart } from './store';

// Optional OpenTelemetry: one span per tool call (and per refusal), exported over OTLP/HTTP
// (JSON) when an endpoint is configured, off otherwise. Spans are cut from the audit path,
// which sees every call: the span starts when the call's audit row is written and ends when
// its outcome is. Attributes are the audit's metadata only: never the input, never a token,
// and the identifier only as a keyed hash (HMAC with the audit key, so it cannot be guessed
// back from a list of user names, yet is stable across instances).

export interface TelemetryConfig {
  /** Full OTLP/HTTP traces URL, e.g. https://collector:4318/v1/traces. */
  readonly tracesUrl: string;
  /** Extra headers for the collector (OTEL_EXPORTER_OTLP_HEADERS), e.g. an API key. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface Telemetry {
  readonly tracer: Tracer;
  shutdown(): Promise<void>;
}

export function startTelemetry(config: TelemetryConfig, instance: string, version: string): Telemetry {
  const exporter = new OTLPTraceExporter({ url: config.tracesUrl, headers: { ...config.headers } });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'onbehalf-gateway', 'service.version': version, 'service.instance.id': instance }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000 })],
  });
  return { tracer: provider.getTracer('onbehalf-gateway', version), shutdown: () => provider.shutdown() };
}

/** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) or OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces), per the OTLP exporter spec. */
export function telemetryConfigFromEnv(env: Readonly<Record<string, string | undefined>>): TelemetryConfig | undefined {
  const traces = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim();
  const base = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  const tracesUrl = traces || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : '');
  if (!tracesUrl) return undefined;
  const headers: Record<string, string> = {};
  for (const pair of (env['OTEL_EXPORTER_OTLP_HEADERS'] ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return { tracesUrl, headers };
}

/** The audit store, plus a span per record. */
export class TracedAuditStore extends AuditStore {
  private readonly open = new Map<string, { span: Span; entry: AuditStart }>();

  constructor(
    db: Database,
    private readonly tracer: Tracer,
    private readonly auditKey: Uint8Array,
  ) {
    super(db);
  }

  override async start(entry: AuditStart): Promise<string> {
    const span = this.tracer.startSpan(`tools/call ${entry.tool}`, { kind: SpanKind.SERVER, attributes: this.attributes(entry) });
    try {
      const id = await super.start(entry);
      // A call whose instance dies never finishes: keep the map bounded.
      if (this.open.size > 10_000) this.open.clear();
      this.open.set(id, { span, entry });
      return id;
    } catch (error) {
      this.end(span, { outcome: 'refused', error: 'audit unavailable', durationMs: 0 });
      throw error;
    }
  }

  override async finish(id: string, finish: AuditFinish): Promise<void> {
    const open = this.open.get(id);
    this.open.delete(id);
    try {
      await super.finish(id, finish);
    } finally {
      if (open) this.end(open.span, finish);
    }
  }

  override async record(entry: AuditStart, finish: AuditFinish): Promise<string> {
    const span = this.tracer.startSpan(`tools/call ${entry.tool}`, { kind: SpanKind.SERVER, attributes: this.attributes(entry) });
    try {
      return await super.record(entry, finish);
    } finally {
      this.end(span, finish);
    }
  }

  private attributes(entry: AuditStart): Record<string, string | number> {
    return {
      'onbehalf.identifier_hash': createHmac('sha256', this.auditKey).update(`otel\u0000${entry.identifier}`).digest('hex').slice(0, 32),
      'onbehalf.connection': entry.connection,
      'onbehalf.tool': entry.tool,
      'onbehalf.risk': entry.risk,
      'onbehalf.decision': entry.decision,
      'onbehalf.decision_source': entry.decisionSource,
      'onbehalf.instance': entry.instance,
    };
  }

  private end(span: Span, finish: AuditFinish): void {
    span.setAttributes({ 'onbehalf.outcome': finish.outcome, 'onbehalf.duration_ms': Math.round(finish.durationMs) });
    // The error text stays in the audit: it may quote the provider, so the span only says that it failed.
    if (finish.outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: finish.outcome });
    span.end();
  }
}
