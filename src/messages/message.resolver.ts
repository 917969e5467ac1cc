import { Resolver } from 'type-graphql';
import type { Services } from '../services';
import { MessageType } from './message.types';

@Resolver(() => MessageType)
export class MessageResolver {
  constructor(private readonly services: Services) {}
}
