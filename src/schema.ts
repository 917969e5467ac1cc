import 'reflect-metadata';
import { type GraphQLSchema, isUnionType, lexicographicSortSchema, printSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { buildSchema, type ContainerType, type NonEmptyArray } from 'type-graphql';
import type { Services } from './services';
import { typeGraphqlPubSub } from './realtime/event-bus';
import { AccountResolver, ActivityResolver } from './accounts/account.resolver';
import { ChannelResolver } from './channels/channel.resolver';
import { MessageResolver } from './messages/message.resolver';
import { RealtimeResolver } from './realtime/realtime.resolver';
import { SearchResolver } from './search/search.resolver';
import { SearchService } from './search/search.service';
import { channelEventTypeName, messageAddedValue, toEventValue } from './realtime/event.types';
import type { ChannelTopicEvent } from './realtime/topics';
import type { MessageSnapshot } from './realtime/snapshots';

/** Every resolver class; each takes the app's Services in its constructor. */
export const resolverClasses = [AccountResolver, ActivityResolver, ChannelResolver, MessageResolver, RealtimeResolver] as unknown as NonEmptyArray<new (services: Services) => object>;

/** A container per app instance, so two apps in one process never share resolver state. */
function containerFor(services: Services | undefined): ContainerType {
  if (!services) {
    return {
      get() {
        throw new Error('This schema was built for printing only');
      },
    };
  }
  const instances = new Map<unknown, object>(resolverClasses.map((cls) => [cls, new cls(services)]));
  // Features constructed with exactly what they use.
  instances.set(SearchResolver, new SearchResolver(new SearchService(services.sql)));
  return {
    get(someClass) {
      const instance = instances.get(someClass);
      if (!instance) throw new Error(`No instance registered for ${(someClass as { name?: string }).name}`);
      return instance;
    },
  };
}

/** The executable schema; without services, a schema that can only be printed. */
export async function buildAppSchema(services?: Services): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [...resolverClasses, SearchResolver],
    container: containerFor(services),
    pubSub: services ? typeGraphqlPubSub(services.bus) : { publish: () => undefined, subscribe: () => (async function* () {})() },
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    // Inputs carry no class-validator decorators: services check every rule and name the field.
    validate: false,
    emitSchemaFile: false,
  });
  const channelEvent = schema.getType('ChannelEvent');
  if (isUnionType(channelEvent)) channelEvent.resolveType = channelEventTypeName;
  // Event resolvers run for every event. type-graphql makes every resolver with arguments
  // asynchronous (its argument validation is an async function even when validation is off),
  // which would cost a promise per event and keep delivery from being synchronous. These two
  // only map the event (realtime.resolver.ts), so the same mapping is put in place directly.
  const subscriptions = schema.getSubscriptionType()?.getFields();
  if (subscriptions?.channelEvents) subscriptions.channelEvents.resolve = (event: ChannelTopicEvent) => toEventValue(event);
  if (subscriptions?.inbox) subscriptions.inbox.resolve = (message: MessageSnapshot) => messageAddedValue(message);
  return schema;
}

/** schema.graphql as committed: sorted, so diffs show real changes only. */
export function printAppSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
