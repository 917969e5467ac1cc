// OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. The instrumentations
// patch `http`, `pg`, `ioredis` and `graphql` when they are required, so main.ts starts this
// BEFORE it loads the app (src/app.ts and everything under it).
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Config } from '../config';

export interface Tracing {
  /** Flushes pending spans and stops exporting. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Instead of OTLP over HTTP (tests: an InMemorySpanExporter), exported span by span. */
  exporter?: SpanExporter;
}

/**
 * Registers the global tracer provider and the instrumentations, or does nothing (null) when
 * tracing is off. Call once per process, before the app's modules are loaded.
 */
export function startTracing(config: Pick<Config, 'tracing'>, options: TracingOptions = {}): Tracing | null {
  const settings = config.tracing;
  if (!settings.endpoint && !options.exporter) return null;
  const exporter = options.exporter ?? new OTLPTraceExporter({ url: `${settings.endpoint!.replace(/\/$/, '')}/v1/traces`, headers: settings.headers });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName, [ATTR_SERVICE_VERSION]: settings.serviceVersion }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are not requests worth a trace.
        ignoreIncomingRequestHook: (request) => /^\/(healthz|readyz|metrics)\b/.test(request.url ?? ''),
      }),
      // Statements, never their parameter values.
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
      // Parse, validate and execute spans (resolvers only for graphql-js executions, not per field).
      new GraphQLInstrumentation({ ignoreTrivialResolveSpans: true, ignoreResolveSpans: true, allowValues: false }),
    ],
  });
  return {
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
}
