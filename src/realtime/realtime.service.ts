import type { Services } from '../services';

/** Subscriptions (channelEvents, inbox), typing and presence. */
export class RealtimeService {
  constructor(private readonly services: Services) {}
}
