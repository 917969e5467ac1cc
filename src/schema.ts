import 'reflect-metadata';
import { type GraphQLSchema, isUnionType, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema, type ContainerType, type NonEmptyArray } from 'type-graphql';
import { AccountResolver } from './accounts/account.resolver';
import { BlockResolver } from './accounts/block.resolver';
import { ActivityChannelResolver, ChannelResolver } from './channels/channel.resolver';
import { MessageThreadResolver, ThreadResolver } from './conversations/thread.resolver';
import { MessageResolver } from './messages/message.resolver';
import { ReportResolver } from './messages/report.resolver';
import { RealtimeResolver } from './realtime/realtime.resolver';
import { dateTimeScalar } from './shared/date-time';
import { SearchResolver } from './search/search.resolver';
import { AttentionResolver, ChannelAttentionResolver, MessageAttentionResolver, UserAttentionResolver } from './attention/attention.resolver';
import { ReactionGroupResolver, ReactionResolver } from './conversations/reaction.resolver';
import { PinChannelResolver, PinResolver } from './conversations/pin.resolver';
import { canonicalizeIdArguments } from './shared/ids';
import { channelEventTypeName, messageAddedValue, toEventValue } from './realtime/event.types';
import type { ChannelTopicEvent } from './domain/topics';
import type { MessageSnapshot, NotificationSnapshot } from './domain/snapshots';
import type { RequestContext } from './shared/context';

/** Every resolver class. */
export const resolverClasses = [
  AccountResolver,
  BlockResolver,
  ActivityChannelResolver,
  ChannelResolver,
  MessageResolver,
  ReportResolver,
  ThreadResolver,
  MessageThreadResolver,
  RealtimeResolver,
  SearchResolver,
  ReactionResolver,
  ReactionGroupResolver,
  PinResolver,
  PinChannelResolver,
  AttentionResolver,
  MessageAttentionResolver,
  ChannelAttentionResolver,
  UserAttentionResolver,
] as const;

/** One instance of every resolver class, built with its collaborators by the composition root (app.ts). */
export type ResolverInstances = InstancesOf<typeof resolverClasses>;

/** A tuple of classes to the tuple of their instances (generic, so the tuple maps element by element). */
type InstancesOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: T[K] extends abstract new (...args: never[]) => infer I ? I : never };

/** A container per app instance, so two apps in one process never share resolver state. */
function containerFor(resolvers: ResolverInstances | undefined): ContainerType {
  if (!resolvers) {
    return {
      get() {
        throw new Error('This schema was built for printing only');
      },
    };
  }
  const instances = new Map<unknown, object>(resolvers.map((instance: object) => [instance.constructor, instance]));
  return {
    get(someClass) {
      const instance = instances.get(someClass);
      if (!instance) throw new Error(`No instance registered for ${(someClass as { name?: string }).name}`);
      return instance;
    },
  };
}

/**
 * type-graphql requires a pubSub once there are subscriptions, but every subscription here
 * has its own `subscribe` (the realtime engine), so nothing ever calls it.
 */
const unusedPubSub = {
  publish(): never {
    throw new Error('events are published on the EventBus, not through type-graphql');
  },
  subscribe(): never {
    throw new Error('subscriptions subscribe through the realtime engine, not through type-graphql');
  },
};

/** The executable schema; without resolvers, a schema that can only be printed. */
export async function buildAppSchema(resolvers?: ResolverInstances): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: resolverClasses as unknown as NonEmptyArray<new (...args: never[]) => object>,
    container: containerFor(resolvers),
    pubSub: unusedPubSub,
    scalarsMap: [{ type: Date, scalar: dateTimeScalar() }],
    // Every @ObjectType sets `simpleResolvers`: its plain fields read their property with no
    // type-graphql wrapper (a middleware runner, an object per field per row, though no
    // middleware is used), so graphql-jit inlines the read (test/schema.test.ts holds it).
    // Inputs carry no class-validator decorators: services check every rule and name the field.
    validate: false,
    emitSchemaFile: false,
  });
  canonicalizeIdArguments(schema);
  const channelEvent = schema.getType('ChannelEvent');
  if (isUnionType(channelEvent)) channelEvent.resolveType = channelEventTypeName;
  // Event resolvers run for every event. type-graphql makes every resolver with arguments
  // asynchronous (its argument validation is an async function even when validation is off),
  // which would cost a promise per event and keep delivery from being synchronous. These two
  // only map the event (realtime.resolver.ts), so the same mapping is put in place directly.
  const subscriptions = schema.getSubscriptionType()?.getFields();
  if (subscriptions?.channelEvents) subscriptions.channelEvents.resolve = (event: ChannelTopicEvent) => toEventValue(event);
  if (subscriptions?.inbox) subscriptions.inbox.resolve = (message: MessageSnapshot) => messageAddedValue(message);
  // The notifications stream of this app instance's service; each event is its notification.
  const attention = resolvers?.find((instance): instance is AttentionResolver => instance instanceof AttentionResolver)?.attention;
  if (subscriptions?.notifications && attention) {
    subscriptions.notifications.subscribe = (_root: unknown, _args: unknown, context: RequestContext) => attention.notificationStream(context);
    subscriptions.notifications.resolve = (notification: NotificationSnapshot) => notification;
  }
  return schema;
}

/** schema.graphql as committed: sorted, so diffs show real changes only. */
export function printAppSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
