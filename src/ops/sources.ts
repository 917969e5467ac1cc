import type { EventBus } from '../realtime/event-bus';

/** What /metrics reads (metrics.ts). */
export interface MetricsServices {
  realtime: { readonly activeStreams: number };
  bus: Pick<EventBus, 'stats'>;
  errors: { readonly recorded: number };
}
