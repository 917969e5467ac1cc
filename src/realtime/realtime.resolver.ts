import { Resolver } from 'type-graphql';
import type { Services } from '../services';

@Resolver()
export class RealtimeResolver {
  constructor(private readonly services: Services) {}
}
