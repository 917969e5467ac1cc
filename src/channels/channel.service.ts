import type { Services } from '../services';

/** Channels, membership, direct channels and read markers. */
export class ChannelService {
  constructor(private readonly services: Services) {}
}
