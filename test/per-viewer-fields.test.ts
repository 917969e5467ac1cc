// Per-viewer fields are marked where they are defined (shared/viewer-field.ts), and event
// rendering reads the marks from the schema (realtime/delivery.ts).
//
// How the test finds a field that reads the viewer without the mark: a field can learn who
// is asking only from the context's `viewer` (directly, through @CurrentUser/@OptionalUser,
// or through a loader that keeps the context). So the test calls every field resolver of
// every object type (Subscription included; Query and Mutation fields answer the caller by
// nature and never render an event) on real values of its type, each call with a context of
// its own whose `viewer` property records the reader. Real values: the resolvers of a copy
// of the schema are wrapped to collect the parent values they see while a scenario runs the
// API's queries and every kind of event. Calling each field alone, with a fresh context (so
// fresh loaders), attributes every read to the one field that made it, also a read inside a
// loader's batch function; reading source text would miss those. The test fails as well when
// a type of the schema got no value from the scenario, so a new type cannot slip past it:
// extend the scenario instead.
import {
  defaultFieldResolver,
  execute,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isLeafType,
  isNonNullType,
  isObjectType,
  isUnionType,
  parse,
  subscribe,
} from 'graphql';
import { parseBearer } from '../src/accounts/session.service';
import type { App } from '../src/app';
import { buildAppSchema } from '../src/schema';
import { createRequestContext, type Viewer } from '../src/shared/context';
import { QueryExecutor } from '../src/shared/jit';
import { isPerViewerField, viewerUse, ViewerUse } from '../src/shared/viewer-field';
import { resetState } from './helpers/db';
import { createUser, type TestUser } from './helpers/factories';
import { gqlOk } from './helpers/graphql';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { createChannel, sendMessage, waitForStreams } from './helpers/realtime';
import { connectWs, disposeAllWsClients } from './helpers/ws';

const ROOTS_NOT_CHECKED = new Set(['Query', 'Mutation']);

function objectTypes(schema: GraphQLSchema): GraphQLObjectType[] {
  return Object.values(schema.getTypeMap()).filter((type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__'));
}

/** A selection of every field of a type (without required arguments), `depth` levels deep. */
function selectAll(type: GraphQLNamedType, depth: number): string {
  if (isUnionType(type)) return `{ __typename ${type.getTypes().map((member) => `... on ${member.name} ${selectAll(member, depth)}`).join(' ')} }`;
  if (!isObjectType(type)) return '';
  const fields = Object.values(type.getFields())
    .filter((field) => !field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined))
    .flatMap((field) => {
      const named = getNamedType(field.type);
      if (isLeafType(named)) return [field.name];
      return depth > 0 ? [`${field.name} ${selectAll(named, depth - 1)}`] : [];
    });
  return `{ __typename ${fields.join(' ')} }`;
}

// The three places where the test reaches into the app's composition: a copy of its schema,
// a viewer, and a context as graphql-ws builds one.
const schemaFor = (app: App) => buildAppSchema(app.resolvers);

function viewerOf(app: App, user: TestUser): Promise<Viewer> {
  return app.services.sessions.authenticate(parseBearer(`Bearer ${user.token}`)).then((viewer) => viewer!);
}

const contextFor = (app: App, viewer: Viewer) =>
  createRequestContext({ requestId: null, transport: 'ws' as const, viewer, ip: null, userAgent: null, realtime: app.services.realtime });

async function executeOk(schema: GraphQLSchema, app: App, viewer: Viewer, source: string, variables: Record<string, unknown> = {}) {
  const result = await execute({ schema, document: parse(source), contextValue: contextFor(app, viewer), variableValues: variables });
  expect(result.errors).toBeUndefined();
  return result.data as Record<string, any>;
}

describe('per-viewer fields', () => {
  let server: TestApp;
  let owner: TestUser;
  let other: TestUser;
  beforeAll(async () => {
    server = await startTestApp();
  });
  beforeEach(async () => {
    await resetState(server.app);
    owner = await createUser(server.app);
    other = await createUser(server.app);
  });
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  it('are marked in the built schema', async () => {
    const schema = await schemaFor(server.app);
    const field = (type: string, name: string) => (schema.getType(type) as GraphQLObjectType).getFields()[name];
    expect(isPerViewerField(field('Channel', 'unreadCount'))).toBe(true);
    expect(isPerViewerField(field('Message', 'myVote'))).toBe(true);
    expect(isPerViewerField(field('Channel', 'memberCount'))).toBe(false);
    expect(viewerUse(field('Channel', 'memberCount'))).toBeNull();
    expect(viewerUse(field('Message', 'channel'))).toBe(ViewerUse.AccessCheck);
    expect(isPerViewerField(field('Message', 'channel'))).toBe(false);
  });

  it('every field that reads the viewer from the context carries the mark, and every marked field reads it', async () => {
    const { app } = server;
    const schema = await schemaFor(app);
    // 1. Wrap every resolver to collect the values each type is resolved from.
    const samples = new Map<string, Set<unknown>>();
    const originals = new Map<string, GraphQLFieldResolver<unknown, unknown>>();
    for (const type of objectTypes(schema)) {
      if (ROOTS_NOT_CHECKED.has(type.name)) continue;
      for (const field of Object.values(type.getFields())) {
        const original = field.resolve ?? defaultFieldResolver;
        originals.set(`${type.name}.${field.name}`, original);
        field.resolve = (source, args, context, info) => {
          const seen = samples.get(type.name) ?? new Set();
          if (seen.size < 20 && source !== null && source !== undefined) seen.add(source);
          samples.set(type.name, seen);
          return original(source, args, context, info);
        };
      }
    }

    // 2. The scenario: channels of every kind, messages with votes, reactions and pins, and every kind of event.
    const a = await viewerOf(app, owner);
    const b = await viewerOf(app, other);
    const publicId = await createChannel(server, owner.token, 'everything');
    const privateId = await createChannel(server, owner.token, 'secret', 'PRIVATE');
    await gqlOk(server.url, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: publicId }, { token: other.token });
    await gqlOk(server.url, 'mutation ($c: ID!, $u: ID!) { inviteToChannel(channelId: $c, userId: $u) { id } }', { c: privateId, u: other.id }, { token: owner.token });
    const { openDirectChannel } = await gqlOk(server.url, 'mutation ($u: ID!) { openDirectChannel(userId: $u) { id } }', { u: other.id }, { token: owner.token });
    for (const channelId of [publicId, privateId, openDirectChannel.id]) {
      const message = await sendMessage(server, other.token, channelId, `hello ${channelId}`);
      await gqlOk(server.url, 'mutation ($id: ID!) { vote(messageId: $id, value: UP) { id } }', { id: message.id }, { token: owner.token });
      await gqlOk(server.url, 'mutation ($id: ID!) { addReaction(messageId: $id, emoji: "👍") { id } }', { id: message.id }, { token: owner.token });
      await gqlOk(server.url, 'mutation ($id: ID!) { pinMessage(messageId: $id) { id } }', { id: message.id }, { token: other.token });
    }
    // Attention: a mention gives the owner a notification.
    await sendMessage(server, other.token, publicId, `hi @${owner.username}`);
    await executeOk(
      schema,
      app,
      a,
      `query ($p: ID!, $q: ID!, $d: ID!, $b: ID!) {
        me ${selectAll(schema.getType('User')!, 4)}
        user(id: $b) ${selectAll(schema.getType('User')!, 4)}
        myChannels ${selectAll(schema.getType('Channel')!, 4)}
        channels ${selectAll(schema.getType('ChannelConnection')!, 5)}
        users ${selectAll(schema.getType('UserConnection')!, 5)}
        myActivity ${selectAll(schema.getType('ActivityConnection')!, 5)}
        notifications ${selectAll(schema.getType('NotificationConnection')!, 5)}
        p: messages(channelId: $p) ${selectAll(schema.getType('MessageConnection')!, 5)}
        q: messages(channelId: $q) ${selectAll(schema.getType('MessageConnection')!, 5)}
        d: messages(channelId: $d) ${selectAll(schema.getType('MessageConnection')!, 5)}
      }`,
      { p: publicId, q: privateId, d: openDirectChannel.id, b: other.id },
    );
    // Threads and edit history: a reply and an edit in the public channel, the owner's threads, a thread's replies.
    const root = await sendMessage(server, owner.token, publicId, 'thread root');
    await gqlOk(server.url, 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { channelId: publicId, body: 'reply', threadId: root.id } }, { token: other.token });
    await gqlOk(server.url, 'mutation ($id: ID!) { editMessage(messageId: $id, body: "thread root, edited") { id } }', { id: root.id }, { token: owner.token });
    await executeOk(
      schema,
      app,
      a,
      `query ($p: ID!, $r: ID!) {
        myThreads ${selectAll(schema.getType('ThreadConnection')!, 5)}
        threadReplies(messageId: $r) ${selectAll(schema.getType('MessageConnection')!, 5)}
        messages(channelId: $p, last: 3) ${selectAll(schema.getType('MessageConnection')!, 5)}
      }`,
      { p: publicId, r: root.id },
    );
    // Moderation: a report on a message of the public channel, listed by its owner.
    const reported = await sendMessage(server, other.token, publicId, 'report me');
    await gqlOk(server.url, 'mutation ($m: ID!) { reportMessage(messageId: $m, reason: "spam") }', { m: reported.id }, { token: other.token });
    await executeOk(schema, app, a, `query ($p: ID!) { reports(channelId: $p) ${selectAll(schema.getType('MessageReportConnection')!, 5)} }`, { p: publicId });
    await executeOk(schema, app, a, `mutation ($input: LoginInput!) { login(input: $input) ${selectAll(schema.getType('AuthPayload')!, 3)} }`, {
      input: { login: owner.username, password: owner.password },
    });
    const eventsChannel = await createChannel(server, owner.token, 'events');
    const streams = await Promise.all([
      subscribe({ schema, document: parse(`subscription ($c: ID!) { channelEvents(channelId: $c) ${selectAll(schema.getType('ChannelEvent')!, 4)} }`), contextValue: contextFor(app, a), variableValues: { c: eventsChannel } }),
      subscribe({ schema, document: parse(`subscription { inbox ${selectAll(schema.getType('MessageAdded')!, 4)} }`), contextValue: contextFor(app, a) }),
    ]);
    const [events, inbox] = streams.map((stream) => {
      if (!(Symbol.asyncIterator in stream)) throw new Error(`not a stream: ${JSON.stringify(stream)}`);
      return stream as AsyncGenerator<{ data?: Record<string, any> | null; errors?: readonly unknown[] }>;
    });
    await waitForStreams(app, 2);
    const as = (user: TestUser) => ({ token: user.token });
    let sent = { id: '' };
    // Each event is executed before the next action (a deleted channel cannot resolve its messages' channel).
    const actions: Array<[string, () => Promise<unknown>]> = [
      ['MemberJoined', () => gqlOk(server.url, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: eventsChannel }, as(other))],
      ['MessageAdded', async () => (sent = await sendMessage(server, other.token, eventsChannel, 'event'))],
      ['MessagesSeen', () => gqlOk(server.url, 'mutation ($c: ID!) { markRead(channelId: $c) { id } }', { c: eventsChannel }, as(owner))],
      ['MessageUpdated', () => gqlOk(server.url, 'mutation ($id: ID!) { editMessage(messageId: $id, body: "edited") { id } }', { id: sent.id }, as(other))],
      ['MessageDeleted', () => gqlOk(server.url, 'mutation ($id: ID!) { deleteMessage(messageId: $id) { id } }', { id: sent.id }, as(other))],
      ['UserTyping', () => gqlOk(server.url, 'mutation ($c: ID!) { setTyping(channelId: $c) }', { c: eventsChannel }, as(other))],
      ['ChannelUpdated', () => gqlOk(server.url, 'mutation ($input: UpdateChannelInput!) { updateChannel(input: $input) { id } }', { input: { channelId: eventsChannel, description: 'new' } }, as(owner))],
      ['MemberLeft', () => gqlOk(server.url, 'mutation ($c: ID!) { leaveChannel(channelId: $c) }', { c: eventsChannel }, as(other))],
      ['ChannelDeleted', () => gqlOk(server.url, 'mutation ($c: ID!) { deleteChannel(channelId: $c) }', { c: eventsChannel }, as(owner))],
    ];
    for (const [kind, action] of actions) {
      await action();
      const next = await events.next();
      expect(next.value?.errors).toBeUndefined();
      expect(next.value?.data?.channelEvents.__typename).toBe(kind);
      if (kind === 'MessageAdded') expect((await inbox.next()).value?.errors).toBeUndefined();
    }
    expect((await events.next()).done).toBe(true);
    await inbox.return(undefined);

    // Every type has values to call its fields on (a new type needs a place in the scenario).
    const missing = objectTypes(schema).filter((type) => !ROOTS_NOT_CHECKED.has(type.name) && !samples.has(type.name)).map((type) => type.name);
    expect(missing).toEqual([]);

    // 3. Each field alone, on each value of its type, with a context that records reading `viewer`.
    const readers = new Set<string>();
    for (const type of objectTypes(schema)) {
      for (const field of Object.values(type.getFields()) as Array<GraphQLField<unknown, unknown>>) {
        const coordinate = `${type.name}.${field.name}`;
        const resolve = originals.get(coordinate);
        if (!resolve) continue;
        const args = Object.fromEntries(field.args.filter((arg) => arg.defaultValue !== undefined).map((arg) => [arg.name, arg.defaultValue]));
        for (const sample of samples.get(type.name) ?? []) {
          for (const viewer of [a, b]) {
            const context = new Proxy(contextFor(app, viewer), {
              get(target, key) {
                if (key === 'viewer') readers.add(coordinate);
                return Reflect.get(target, key);
              },
            });
            const info = { fieldName: field.name, fieldNodes: [], returnType: field.type, parentType: type, path: { prev: undefined, key: field.name, typename: type.name }, schema, fragments: {}, rootValue: undefined, operation: parse('{ __typename }').definitions[0], variableValues: {} };
            try {
              await resolve(sample, args, context, info as never);
            } catch {
              // An access check may refuse; what matters is whether it read the viewer.
            }
          }
        }
      }
    }
    const marked = objectTypes(schema).flatMap((type) => Object.values(type.getFields()).filter((field) => viewerUse(field) !== null).map((field) => `${type.name}.${field.name}`));
    const unmarked = [...readers].filter((coordinate) => !marked.includes(coordinate));
    // A failure here names a field that reads the viewer: mark it with @PerViewer() (or @ViewerAccessCheck()).
    expect(unmarked).toEqual([]);
    // And the detector sees every marked field read it (no stale mark, no blind spot).
    expect([...readers].sort()).toEqual([...marked].sort());
  }, 60_000);

  describe('rendering an event through graphql-ws', () => {
    const PER_VIEWER = `subscription ($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageAdded { message { id body channel { id unreadCount } } } } }`;
    const SHARED = `subscription ($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageAdded { message { id body channel { id memberCount } } } } }`;

    /** Executions of MessageAdded events (the renderer passes the event as the root value) while `fn` runs. */
    async function eventExecutions(fn: () => Promise<void>): Promise<number> {
      const spy = jest.spyOn(QueryExecutor.prototype, 'execute');
      try {
        await fn();
        return spy.mock.calls.filter(([, , root]) => (root as { type?: string } | undefined)?.type === 'MessageAdded').length;
      } finally {
        spy.mockRestore();
      }
    }

    async function twoSubscribers(query: string) {
      const channelId = await createChannel(server, owner.token, 'render');
      await gqlOk(server.url, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: channelId }, { token: other.token });
      const before = server.app.services.realtime.activeStreams;
      const subscriptions = [owner, other].map((user) => connectWs(server.wsUrl, user.token).subscribe(query, { c: channelId }));
      await waitForStreams(server.app, before + 2);
      return { channelId, subscriptions };
    }

    it('renders a document that selects a per-viewer field for each viewer', async () => {
      const { channelId, subscriptions } = await twoSubscribers(PER_VIEWER);
      const executions = await eventExecutions(async () => {
        await sendMessage(server, owner.token, channelId, 'for each');
        await Promise.all(subscriptions.map((subscription) => subscription.waitFor(1)));
      });
      expect(executions).toBe(2);
      const [mine, theirs] = subscriptions.map((subscription) => subscription.results[0].data!.channelEvents.message);
      // The author has nothing unread; the other member has this message.
      expect(mine).toMatchObject({ body: 'for each', channel: { id: channelId, unreadCount: 0 } });
      expect(theirs).toMatchObject({ body: 'for each', channel: { id: channelId, unreadCount: 1 } });
    });

    it('renders a document without per-viewer fields once for both', async () => {
      const { channelId, subscriptions } = await twoSubscribers(SHARED);
      const executions = await eventExecutions(async () => {
        await sendMessage(server, owner.token, channelId, 'for all');
        await Promise.all(subscriptions.map((subscription) => subscription.waitFor(1)));
      });
      expect(executions).toBe(1);
      const [mine, theirs] = subscriptions.map((subscription) => subscription.results[0]);
      expect(mine).toEqual(theirs);
      expect(mine.data!.channelEvents.message).toMatchObject({ body: 'for all', channel: { id: channelId, memberCount: 2 } });
    });
  });
});
