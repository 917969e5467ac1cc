import { Resolver } from 'type-graphql';
import type { Services } from '../services';
import { ChannelType } from './channel.types';

@Resolver(() => ChannelType)
export class ChannelResolver {
  constructor(private readonly services: Services) {}
}
