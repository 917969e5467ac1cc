import { Router } from 'express';
import type { MetricsServices as Services } from './sources';

export interface MetricsSources {
  services: Services;
  /** Open graphql-ws connections on this instance. */
  connections: () => number;
}

/**
 * `GET /metrics` (EXPOSE_METRICS=true): the numbers the soak run watches for growth.
 * JSON rather than a metrics format, as nothing scrapes it yet.
 */
export function metricsRoutes({ services, connections }: MetricsSources): Router {
  const router = Router();
  const startedAt = Date.now();
  router.get('/metrics', (_req, res) => {
    const memory = process.memoryUsage();
    res.json({
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      activeResources: process.getActiveResourcesInfo().length,
      wsConnections: connections(),
      activeStreams: services.realtime.activeStreams,
      published: services.bus.stats.published,
      publishFailures: services.bus.stats.publishFailures,
      unexpectedErrors: services.errors.recorded,
    });
  });
  return router;
}
