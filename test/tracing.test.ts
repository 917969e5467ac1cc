import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config';
import { describeWithRedis, testConfig, testRedisPrefix, testRedisUrl, workerDatabaseUrl } from './helpers/app';

const PROBE = path.resolve(__dirname, 'support', 'tracing-probe.cjs');

interface ProbeSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentId: string | null;
  attributes: Record<string, unknown>;
}

describe('tracing configuration', () => {
  test('off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; the standard OTEL_* variables are validated', () => {
    expect(loadConfig({}).tracing).toEqual({ endpoint: null, headers: {}, serviceName: 'chat-api', serviceVersion: '0.1.0', sampleRatio: 1 });
    const on = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%20def,tenant=t1',
      OTEL_SERVICE_NAME: 'chat-eu',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    }).tracing;
    expect(on).toEqual({ endpoint: 'http://collector:4318', headers: { 'x-api-key': 'abc def', tenant: 't1' }, serviceName: 'chat-eu', serviceVersion: '0.1.0', sampleRatio: 0.25 });
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'novalue' })).toThrow(/OTEL_EXPORTER_OTLP_HEADERS/);
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
  });
});

describeWithRedis('a traced sendMessage (in-memory exporter, compiled app in a child process)', () => {
  let spans: ProbeSpan[];
  const requestId = `trace-test-${process.pid}`;

  beforeAll(async () => {
    const config = testConfig();
    const { stdout } = await promisify(execFile)(process.execPath, [PROBE], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATABASE_URL: workerDatabaseUrl(),
        REDIS_URL: testRedisUrl()!,
        REDIS_KEY_PREFIX: `${testRedisPrefix()}trace:`,
        ARGON2_MEMORY_KIB: String(config.auth.argon2MemoryKib),
        ARGON2_ITERATIONS: String(config.auth.argon2Iterations),
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        PROBE_REQUEST_ID: requestId,
      },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`tracing probe failed: ${error.message}\n${error.stderr ?? ''}`);
    });
    spans = JSON.parse(stdout.trim().split('\n').pop()!);
  }, 90_000);

  test('its trace has the HTTP span with the request id, the GraphQL operation, its SQL and its publish', () => {
    const server = spans.find((span) => span.attributes['chat.request_id'] === requestId && span.parentId === null);
    expect(server).toBeDefined();
    expect(server!.name).toMatch(/^POST/);
    const trace = spans.filter((span) => span.traceId === server!.traceId);
    const names = trace.map((span) => span.name);

    const operation = trace.find((span) => span.name === 'graphql.mutation SendMessage');
    expect(operation?.attributes['chat.request_id']).toBe(requestId);
    expect(names).toEqual(expect.arrayContaining(['graphql.parse', 'graphql.validate']));

    const sql = trace.filter((span) => span.attributes['db.system.name'] === 'postgresql' && typeof span.attributes['db.query.text'] === 'string');
    expect(sql.map((span) => span.attributes['db.query.text'])).toEqual(expect.arrayContaining([expect.stringContaining('send_messages')]));
    // Statements and documents only, never parameter or variable values (the message body).
    expect(JSON.stringify(trace)).not.toContain('traced');

    const publish = trace.filter((span) => span.attributes['db.system.name'] === 'redis' && /publish/i.test(span.name));
    expect(publish.length).toBeGreaterThanOrEqual(1);
    // Every span of the trace hangs off the request's span.
    const ids = new Set(trace.map((span) => span.spanId));
    for (const span of trace) if (span !== server) expect(ids.has(span.parentId!)).toBe(true);
  });
});
