import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { GraphQLRequestContextDidResolveOperation, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { type NextFunction, type Request, type Response, Router } from 'express';
import { getOperationAST } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../shared/logger';

/** Numbers other modules keep and /metrics reads when scraped (no per-event plumbing). */
export interface MetricsSources {
  /** Open graphql-ws sockets on this instance. */
  sockets(): number;
  /** Subscriptions (channel streams) live on this instance. */
  subscriptions(): number;
  /** Frames written to sockets and sockets dropped for reading too slowly (ws-transport.ts). */
  transport(): { framesSent: number; slowConsumers: number };
  /** Events published and publishes that failed (realtime/event-bus.ts). */
  bus(): { published: number; publishFailures: number };
  /** The pg pool of the hot paths (shared/sql.ts). */
  dbPool(): { total: number; idle: number; waiting: number; max: number };
  /** Unexpected errors recorded (ops/error-recorder.ts). */
  unexpectedErrors(): number;
}

/** What a request tells the metrics and the access log: set by the Apollo plugin, read when the response ends. */
export interface RequestFacts {
  operation?: string;
  errorCodes?: string[];
}

/** Operation names are client-chosen: bounded in shape and number, so a client cannot blow up the series. */
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_NAMES = 200;

/** A counter that mirrors a running total kept elsewhere (set at scrape time). */
function mirrorCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let reported = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      if (now > reported) this.inc(now - reported);
      reported = Math.max(reported, now);
    },
  });
}

/**
 * Prometheus metrics (prom-client), one Registry per app instance: HTTP requests by operation
 * and outcome with latency, GraphQL errors by code and transport, sockets, subscriptions,
 * deliveries, slow consumers, send batch sizes, publishes, the DB pool, event-loop lag and
 * the default process metrics.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly operations = new Set<string>();
  private readonly requests: Counter<'operation' | 'outcome'>;
  private readonly httpSeriesByKey = new Map<string, { requests: Counter.Internal; latency: Histogram.Internal<'operation' | 'outcome'> }>();
  private readonly latency: Histogram<'operation' | 'outcome'>;
  private readonly errors: Counter<'code' | 'transport'>;
  private readonly sendBatches: Histogram;
  private readonly wsClosed: Counter<'code'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    this.requests = new Counter({ name: 'chat_http_requests_total', help: 'GraphQL HTTP requests by operation name and outcome (ok, error, rejected, failed).', labelNames: ['operation', 'outcome'], registers });
    this.latency = new Histogram({
      name: 'chat_http_request_duration_seconds',
      help: 'GraphQL HTTP request latency by operation name and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.errors = new Counter({ name: 'chat_graphql_errors_total', help: 'GraphQL errors answered, by extensions.code and transport.', labelNames: ['code', 'transport'], registers });
    this.sendBatches = new Histogram({ name: 'chat_send_batch_size', help: 'Messages committed per send batch (group commit).', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 200], registers });
    this.wsClosed = new Counter({ name: 'chat_ws_connections_closed_total', help: 'graphql-ws connections closed, by close code.', labelNames: ['code'], registers });
    new Gauge({ name: 'chat_ws_open_sockets', help: 'Open graphql-ws sockets.', registers, collect() { this.set(sources.sockets()); } });
    new Gauge({ name: 'chat_active_subscriptions', help: 'Live subscriptions (channel streams).', registers, collect() { this.set(sources.subscriptions()); } });
    mirrorCounter(this.registry, 'chat_ws_frames_sent_total', 'graphql-ws frames delivered to sockets (events, results, acks).', () => sources.transport().framesSent);
    mirrorCounter(this.registry, 'chat_ws_slow_consumers_dropped_total', 'Sockets closed because their unsent data passed WS_MAX_BUFFERED_BYTES.', () => sources.transport().slowConsumers);
    mirrorCounter(this.registry, 'chat_events_published_total', 'Events published to the event bus.', () => sources.bus().published);
    mirrorCounter(this.registry, 'chat_publish_failures_total', 'Events whose publish failed (after their write committed).', () => sources.bus().publishFailures);
    mirrorCounter(this.registry, 'chat_unexpected_errors_total', 'Unexpected errors recorded in the error log.', () => sources.unexpectedErrors());
    const pool = new Gauge({
      name: 'chat_db_pool_connections',
      help: 'PostgreSQL pool (hot paths): connections by state (in_use, idle), clients waiting, and the maximum.',
      labelNames: ['state'],
      registers,
      collect() {
        const { total, idle, waiting, max } = sources.dbPool();
        pool.set({ state: 'in_use' }, total - idle);
        pool.set({ state: 'idle' }, idle);
        pool.set({ state: 'waiting' }, waiting);
        pool.set({ state: 'max' }, max);
      },
    });
  }

  /** The label for a client's operation name: `anonymous`, `other` past the cap or for odd names. */
  operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (this.operations.has(name)) return name;
    if (this.operations.size >= MAX_OPERATION_NAMES) return 'other';
    this.operations.add(name);
    return name;
  }

  /** One finished HTTP request. */
  httpRequest(facts: RequestFacts, status: number, seconds: number): void {
    const outcome = status >= 500 ? 'failed' : status >= 400 ? 'rejected' : facts.errorCodes?.length ? 'error' : 'ok';
    const series = this.httpSeries(this.operationLabel(facts.operation), outcome);
    series.requests.inc();
    series.latency.observe(seconds);
  }

  /**
   * The request counter and latency series of one (operation, outcome), kept: prom-client
   * otherwise hashes the label object on every call. Bounded like the operation names.
   */
  private httpSeries(operation: string, outcome: string) {
    const key = `${operation} ${outcome}`;
    let series = this.httpSeriesByKey.get(key);
    if (!series) {
      series = { requests: this.requests.labels(operation, outcome), latency: this.latency.labels(operation, outcome) };
      this.httpSeriesByKey.set(key, series);
    }
    return series;
  }

  graphqlErrors(transport: 'http' | 'ws', codes: readonly string[]): void {
    for (const code of codes) this.errors.inc({ code, transport });
  }

  sendBatch(size: number): void {
    this.sendBatches.observe(size);
  }

  wsConnectionClosed(code: number): void {
    this.wsClosed.inc({ code: String(code) });
  }

  /**
   * Hooks for the app's Apollo request listener: the resolved operation name and the answered
   * error codes (after formatting) into the request's facts, which the HTTP layer reads when
   * the response ends.
   */
  requestHooks<C extends object>(factsOf: (context: C) => RequestFacts | undefined) {
    return {
      operationResolved: ({ contextValue, operationName, operation }: GraphQLRequestContextDidResolveOperation<C>): void => {
        const facts = factsOf(contextValue);
        if (facts) facts.operation = operationName ?? operation?.name?.value ?? undefined;
      },
      responseWillSend: ({ contextValue, response, request, document }: GraphQLRequestContextWillSendResponse<C>): void => {
        const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
        const codes = errors ? errors.map((error) => String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR')) : [];
        this.graphqlErrors('http', codes);
        const facts = factsOf(contextValue);
        if (facts) {
          facts.errorCodes = codes;
          // Parsed but not valid: the name as written.
          facts.operation ??= request.operationName ?? (document ? getOperationAST(document, undefined)?.name?.value : undefined);
        }
      },
    };
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * `GET /metrics` on the API's port: only with METRICS_TOKEN (as a bearer token) or
 * EXPOSE_METRICS=true (open, for a private network); otherwise not routed at all.
 */
export function metricsRoutes(metrics: Metrics, access: { token: string | null }): Router {
  const router = Router();
  router.get('/metrics', async (req: Request, res: Response, next: NextFunction) => {
    if (access.token !== null) {
      const header = req.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!sameToken(given, access.token)) {
        res.status(401).setHeader('www-authenticate', 'Bearer realm="metrics"').type('text/plain').send('metrics need the METRICS_TOKEN bearer token\n');
        return;
      }
    }
    try {
      const { contentType, body } = await metrics.render();
      res.setHeader('cache-control', 'no-store');
      res.type(contentType).send(body);
    } catch (error) {
      next(error);
    }
  });
  return router;
}

/** `/metrics` on its own port (METRICS_PORT), for a scraper on the private network. */
export class MetricsServer {
  private readonly server: http.Server;

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.server = http.createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.metrics.render().then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body),
        (error: unknown) => {
          this.logger.error({ err: error }, 'metrics scrape failed');
          res.writeHead(500).end();
        },
      );
    });
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
