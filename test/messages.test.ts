import { ActivityEntry } from '../src/accounts/activity.entity';
import { ChannelKind } from '../src/channels/channel.entity';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { REMOVE } from './helpers/channels';
import { type TestApp, useTestServer } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import {
  createChannelDirectly,
  DELETE,
  EDIT,
  publicChannelId,
  recordChannelEvents,
  sendMessage,
  sendMessageRaw,
  storedSeqs,
  type TestMessage,
  VOTE,
} from './helpers/messages';

describe('messages: sending, idempotency, editing and deleting', () => {
  const suite = useTestServer();
  let server: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let publicId: string;

  beforeAll(() => {
    server = suite.server;
  });
  beforeEach(async () => {
    [alice, bob] = await Promise.all([createUser(server.app), createUser(server.app)]);
    publicId = await publicChannelId(server.app);
  });

  describe('sendMessage', () => {
    it('stores the trimmed body and returns the full message', async () => {
      const message = await sendMessage(server.url, alice.token, publicId, '  hello world \n');
      expect(message).toMatchObject({
        body: 'hello world',
        deleted: false,
        editedAt: null,
        upvotes: 0,
        downvotes: 0,
        score: 0,
        myVote: 'NONE',
        author: { id: alice.id, username: alice.username },
        channel: { id: publicId },
      });
      expect(new Date(message.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(await storedSeqs(server.app, publicId)).toEqual([1]);
    });

    it('rejects empty, blank, too long and NUL-containing bodies with field "body"', async () => {
      for (const body of ['', '   \n\t ', 'x'.repeat(4001), 'a\u0000b']) {
        const response = await sendMessageRaw(server.url, alice.token, { channelId: publicId, body });
        expect(errorCode(response)).toBe('BAD_USER_INPUT');
        expect(response.errors?.[0].extensions?.field).toBe('body');
      }
      // 4000 characters after trimming is fine.
      const long = await sendMessage(server.url, alice.token, publicId, ` ${'y'.repeat(4000)} `);
      expect(long.body).toHaveLength(4000);
      expect(await storedSeqs(server.app, publicId)).toEqual([1]);
    });

    it('rejects a clientMessageId outside 1-128 characters', async () => {
      for (const clientMessageId of ['', 'k'.repeat(129)]) {
        const response = await sendMessageRaw(server.url, alice.token, { channelId: publicId, body: 'hi', clientMessageId });
        expect(errorCode(response)).toBe('BAD_USER_INPUT');
        expect(response.errors?.[0].extensions?.field).toBe('clientMessageId');
      }
    });

    it('requires sign-in', async () => {
      const response = await gql(server.url, 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }', {
        input: { channelId: publicId, body: 'hi' },
      });
      expect(errorCode(response)).toBe('UNAUTHENTICATED');
    });

    it('is for members only: FORBIDDEN in a PUBLIC channel not joined, NOT_FOUND for invisible or unknown channels', async () => {
      const openChannel = await createChannelDirectly(server.app, { kind: ChannelKind.PUBLIC, ownerId: alice.id });
      const privateChannel = await createChannelDirectly(server.app, { kind: ChannelKind.PRIVATE, ownerId: alice.id });
      expect(errorCode(await sendMessageRaw(server.url, bob.token, { channelId: openChannel, body: 'hi' }))).toBe('FORBIDDEN');
      expect(errorCode(await sendMessageRaw(server.url, bob.token, { channelId: privateChannel, body: 'hi' }))).toBe('NOT_FOUND');
      expect(errorCode(await sendMessageRaw(server.url, bob.token, { channelId: '00000000-0000-4000-8000-000000000000', body: 'hi' }))).toBe(
        'NOT_FOUND',
      );
      expect(errorCode(await sendMessageRaw(server.url, bob.token, { channelId: 'not-a-uuid', body: 'hi' }))).toBe('NOT_FOUND');
      // Members may send.
      const message = await sendMessage(server.url, alice.token, privateChannel, 'only us');
      expect(message.channel.id).toBe(privateChannel);
      expect(await storedSeqs(server.app, openChannel)).toEqual([]);
      expect(await storedSeqs(server.app, privateChannel)).toEqual([1]);
    });

    it('numbers messages per channel, gapless and in commit order, also for concurrent senders', async () => {
      const other = await createChannelDirectly(server.app, { ownerId: alice.id, memberIds: [bob.id] });
      const senders = [alice, bob];
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => sendMessage(server.url, senders[i % 2].token, i % 4 === 0 ? other : publicId, `m${i}`)),
      );
      expect(await storedSeqs(server.app, publicId)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(await storedSeqs(server.app, other)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      const [row] = await server.app.services.orm.em
        .fork()
        .getConnection()
        .execute<{ last_seq: string }[]>('select last_seq from channels where id = ?', [publicId]);
      expect(Number(row.last_seq)).toBe(30);
    });

    it('publishes MessageAdded with the author embedded, after commit', async () => {
      const recorder = await recordChannelEvents(server.app, publicId);
      const message = await sendMessage(server.url, alice.token, publicId, 'event me');
      await recorder.waitFor(1);
      recorder.stop();
      const [event] = recorder.events;
      expect(event.type).toBe('MessageAdded');
      if (event.type !== 'MessageAdded') return;
      expect(event.message).toMatchObject({ id: message.id, channelId: publicId, seq: 1, body: 'event me', authorId: alice.id });
      expect(event.message.author).toMatchObject({ id: alice.id, username: alice.username });
      expect(event.message.createdAt).toBeInstanceOf(Date);
    });
  });

  describe('idempotent sends (clientMessageId)', () => {
    it('returns the first message for a repeated key, storing and publishing nothing new', async () => {
      const recorder = await recordChannelEvents(server.app, publicId);
      const first = await sendMessage(server.url, alice.token, publicId, 'once', 'key-1');
      const again = await sendMessage(server.url, alice.token, publicId, 'once (retry)', 'key-1');
      expect(again).toEqual(first);
      // Another author may use the same key.
      const bobs = await sendMessage(server.url, bob.token, publicId, 'mine', 'key-1');
      expect(bobs.id).not.toBe(first.id);
      await recorder.waitFor(2);
      // A marker message proves no third event is still on its way.
      await sendMessage(server.url, alice.token, publicId, 'marker');
      await recorder.waitFor(3);
      recorder.stop();
      expect(recorder.events.map((event) => (event.type === 'MessageAdded' ? event.message.body : event.type))).toEqual(['once', 'mine', 'marker']);
      expect(await storedSeqs(server.app, publicId)).toEqual([1, 2, 3]);
    });

    it('scopes keys to (author, channel): a key reused in another channel is a new message there', async () => {
      const other = await createChannelDirectly(server.app, { ownerId: bob.id, memberIds: [alice.id] });
      const inPublic = await sendMessage(server.url, alice.token, publicId, 'in public', 'key-shared');
      const inOther = await sendMessage(server.url, alice.token, other, 'in the other channel', 'key-shared');
      expect(inOther.id).not.toBe(inPublic.id);
      expect(inOther).toMatchObject({ body: 'in the other channel', channel: { id: other } });
      expect(await storedSeqs(server.app, other)).toEqual([1]);
      // Within a channel the key still names the first message.
      expect((await sendMessage(server.url, alice.token, other, 'retry', 'key-shared')).id).toBe(inOther.id);
    });

    it('after removal from a PRIVATE channel, its old keys reveal nothing: resending one elsewhere is a new message', async () => {
      const secret = await createChannelDirectly(server.app, { kind: ChannelKind.PRIVATE, ownerId: bob.id, memberIds: [alice.id] });
      const old = await sendMessage(server.url, alice.token, secret, 'before removal', 'key-private');
      await gqlOk(server.url, VOTE, { id: old.id, value: 'UP' }, { token: bob.token });
      await gqlOk(server.url, REMOVE, { id: secret, userId: alice.id }, { token: bob.token });
      const resent = await sendMessage(server.url, alice.token, publicId, 'after removal', 'key-private');
      expect(resent).toMatchObject({ body: 'after removal', upvotes: 0, channel: { id: publicId } });
      expect(resent.id).not.toBe(old.id);
      expect(errorCode(await sendMessageRaw(server.url, alice.token, { channelId: secret, body: 'x', clientMessageId: 'key-private' }))).toBe('NOT_FOUND');
    });

    it('stores one row when 10 retries race, all returning the same message, without using up seqs', async () => {
      const recorder = await recordChannelEvents(server.app, publicId);
      const results = await Promise.all(Array.from({ length: 10 }, () => sendMessage(server.url, alice.token, publicId, 'racing', 'race-key')));
      expect(new Set(results.map((message) => message.id)).size).toBe(1);
      const next = await sendMessage(server.url, alice.token, publicId, 'after the race');
      expect(await storedSeqs(server.app, publicId)).toEqual([1, 2]);
      expect(next.id).not.toBe(results[0].id);
      await recorder.waitFor(2);
      recorder.stop();
      expect(recorder.events.map((event) => event.type === 'MessageAdded' && event.message.body)).toEqual(['racing', 'after the race']);
    });
  });

  describe('editMessage', () => {
    let message: TestMessage;
    beforeEach(async () => {
      message = await sendMessage(server.url, alice.token, publicId, 'original');
    });

    it('lets the author edit: body validated and trimmed, editedAt set, MessageUpdated published', async () => {
      const recorder = await recordChannelEvents(server.app, publicId);
      const bad = await gql(server.url, EDIT, { id: message.id, body: '  ' }, { token: alice.token });
      expect(errorCode(bad)).toBe('BAD_USER_INPUT');
      expect(bad.errors?.[0].extensions?.field).toBe('body');
      const response = await gql<{ editMessage: TestMessage }>(server.url, EDIT, { id: message.id, body: ' changed ' }, { token: alice.token });
      const edited = response.data!.editMessage;
      expect(edited).toMatchObject({ id: message.id, body: 'changed', deleted: false, createdAt: message.createdAt });
      expect(edited.editedAt).not.toBeNull();
      await recorder.waitFor(1);
      recorder.stop();
      expect(recorder.events[0]).toMatchObject({ type: 'MessageUpdated', message: { id: message.id, body: 'changed' } });
    });

    it('is FORBIDDEN to others, NOT_FOUND for unknown, invisible or deleted messages', async () => {
      expect(errorCode(await gql(server.url, EDIT, { id: message.id, body: 'hijack' }, { token: bob.token }))).toBe('FORBIDDEN');
      expect(errorCode(await gql(server.url, EDIT, { id: '00000000-0000-4000-8000-000000000000', body: 'x' }, { token: alice.token }))).toBe(
        'NOT_FOUND',
      );
      expect(errorCode(await gql(server.url, EDIT, { id: 'nope', body: 'x' }, { token: alice.token }))).toBe('NOT_FOUND');

      const secret = await createChannelDirectly(server.app, { ownerId: bob.id });
      const hidden = await sendMessage(server.url, bob.token, secret, 'secret');
      expect(errorCode(await gql(server.url, EDIT, { id: hidden.id, body: 'x' }, { token: alice.token }))).toBe('NOT_FOUND');

      await gql(server.url, DELETE, { id: message.id }, { token: alice.token });
      expect(errorCode(await gql(server.url, EDIT, { id: message.id, body: 'revive' }, { token: alice.token }))).toBe('NOT_FOUND');
    });

    it('needs the channel to be still visible to the author', async () => {
      const secret = await createChannelDirectly(server.app, { ownerId: bob.id, memberIds: [alice.id] });
      const mine = await sendMessage(server.url, alice.token, secret, 'mine');
      await server.app.services.orm.em
        .fork()
        .getConnection()
        .execute('delete from memberships where channel_id = ? and user_id = ?', [secret, alice.id]);
      expect(errorCode(await gql(server.url, EDIT, { id: mine.id, body: 'x' }, { token: alice.token }))).toBe('NOT_FOUND');
      expect(errorCode(await gql(server.url, DELETE, { id: mine.id }, { token: alice.token }))).toBe('NOT_FOUND');
    });
  });

  describe('deleteMessage', () => {
    it('leaves a tombstone, publishes MessageDeleted and records MESSAGE_DELETED for the deleter', async () => {
      const message = await sendMessage(server.url, alice.token, publicId, 'regret');
      const recorder = await recordChannelEvents(server.app, publicId);
      const response = await gql<{ deleteMessage: TestMessage }>(server.url, DELETE, { id: message.id }, { token: alice.token });
      expect(response.data!.deleteMessage).toMatchObject({ id: message.id, deleted: true, body: null });
      await recorder.waitFor(1);
      recorder.stop();
      expect(recorder.events[0]).toMatchObject({ type: 'MessageDeleted', message: { id: message.id, deleted: true, body: null } });

      const em = server.app.services.orm.em.fork();
      const [row] = await em
        .getConnection()
        .execute<{ body: string | null; deleted_at: Date | null }[]>('select body, deleted_at from messages where id = ?', [message.id]);
      expect(row.body).toBeNull();
      expect(row.deleted_at).not.toBeNull();
      const entries = await em.find(ActivityEntry, { user: alice.id, action: 'MESSAGE_DELETED' as never });
      expect(entries).toHaveLength(1);
      expect(entries[0].channelId).toBe(publicId);

      // Deleting again changes nothing and records nothing.
      const again = await gql<{ deleteMessage: TestMessage }>(server.url, DELETE, { id: message.id }, { token: alice.token });
      expect(again.data!.deleteMessage.deleted).toBe(true);
      expect(await em.fork().count(ActivityEntry, { user: alice.id, action: 'MESSAGE_DELETED' as never })).toBe(1);
    });

    it('lets the channel owner delete others\' messages; others get FORBIDDEN', async () => {
      const carol = await createUser(server.app);
      const channel = await createChannelDirectly(server.app, { ownerId: alice.id, memberIds: [bob.id, carol.id] });
      const bobs = await sendMessage(server.url, bob.token, channel, 'from bob');
      expect(errorCode(await gql(server.url, DELETE, { id: bobs.id }, { token: carol.token }))).toBe('FORBIDDEN');
      const deleted = await gql<{ deleteMessage: TestMessage }>(server.url, DELETE, { id: bobs.id }, { token: alice.token });
      expect(deleted.data!.deleteMessage).toMatchObject({ deleted: true, body: null });
      const em = server.app.services.orm.em.fork();
      expect(await em.count(ActivityEntry, { user: alice.id, action: 'MESSAGE_DELETED' as never })).toBe(1);
      expect(await em.count(ActivityEntry, { user: bob.id, action: 'MESSAGE_DELETED' as never })).toBe(0);
    });

    it('is NOT_FOUND for a message in a channel the viewer cannot see', async () => {
      const secret = await createChannelDirectly(server.app, { ownerId: bob.id });
      const hidden = await sendMessage(server.url, bob.token, secret, 'secret');
      expect(errorCode(await gql(server.url, DELETE, { id: hidden.id }, { token: alice.token }))).toBe('NOT_FOUND');
      expect(errorCode(await gql(server.url, DELETE, { id: 'garbage' }, { token: alice.token }))).toBe('NOT_FOUND');
    });
  });
});
