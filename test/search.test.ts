// searchMessages through the API (../shared/api/areas/search.graphql): the query language,
// what the viewer may read, edits and deletions, paging, bad and hostile input.
import fc from 'fast-check';
import { ChannelKind } from '../src/channels/channel.entity';
import { errorCode, gql, gqlOk, type GraphQLResponse } from './helpers/graphql';
import { type TestApp, useTestServer } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { CREATE, OPEN_DIRECT } from './helpers/channels';
import { createChannelDirectly, DELETE, EDIT, publicChannelId, sendMessage, type TestMessage } from './helpers/messages';

const SEARCH = `query($query: String!, $first: Int, $after: String) {
  searchMessages(query: $query, first: $first, after: $after) {
    edges { cursor node { id body deleted createdAt author { id username } channel { id name } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

interface SearchPage {
  edges: Array<{ cursor: string; node: { id: string; body: string | null; deleted: boolean; createdAt: string; author: { id: string; username: string }; channel: { id: string; name: string } } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

function searchRaw(url: string, token: string, query: string, extra: { first?: number; after?: string } = {}): Promise<GraphQLResponse<{ searchMessages: SearchPage }>> {
  return gql<{ searchMessages: SearchPage }>(url, SEARCH, { query, ...extra }, { token });
}

async function search(url: string, token: string, query: string, extra: { first?: number; after?: string } = {}): Promise<SearchPage> {
  return (await gqlOk<{ searchMessages: SearchPage }>(url, SEARCH, { query, ...extra }, { token })).searchMessages;
}

/** The bodies found, newest first. */
async function bodies(url: string, token: string, query: string): Promise<Array<string | null>> {
  return (await search(url, token, query)).edges.map((edge) => edge.node.body);
}

function expectBadQuery(response: GraphQLResponse, field = 'query'): void {
  expect(errorCode(response)).toBe('BAD_USER_INPUT');
  expect(response.errors?.[0].extensions?.field).toBe(field);
  expect(response.errors?.[0].extensions?.errorId).toBeUndefined();
}

describe('searchMessages', () => {
  const suite = useTestServer();
  let server: TestApp;
  let ana: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let publicId: string;

  beforeAll(() => {
    server = suite.server;
  });
  beforeEach(async () => {
    [ana, bob, carol] = await Promise.all([createUser(server.app), createUser(server.app), createUser(server.app)]);
    publicId = await publicChannelId(server.app);
  });

  /** Sets created_at of a message (the API always stamps now). */
  async function backdate(messageId: string, at: string): Promise<void> {
    await server.app.services.sql.query('update messages set created_at = $2 where id = $1', [messageId, at]);
  }

  describe('the query language', () => {
    it('matches words with English stemming, every word required, newest first', async () => {
      await sendMessage(server.url, ana.token, publicId, 'We run the release tomorrow');
      await sendMessage(server.url, bob.token, publicId, 'Running late, sorry');
      await sendMessage(server.url, bob.token, publicId, 'the release notes are ready');
      expect(await bodies(server.url, carol.token, 'running')).toEqual(['Running late, sorry', 'We run the release tomorrow']);
      expect(await bodies(server.url, carol.token, 'RELEASE runs')).toEqual(['We run the release tomorrow']);
      expect(await bodies(server.url, carol.token, 'nothing-like-this')).toEqual([]);
    });

    it('matches "quoted phrases" in order and adjacent only', async () => {
      await sendMessage(server.url, ana.token, publicId, 'see you next week then');
      await sendMessage(server.url, ana.token, publicId, 'the week after next');
      expect(await bodies(server.url, bob.token, '"next week"')).toEqual(['see you next week then']);
      expect(await bodies(server.url, bob.token, 'week next')).toEqual(['the week after next', 'see you next week then']);
    });

    it('leaves out -excluded words and -"phrases"', async () => {
      await sendMessage(server.url, ana.token, publicId, 'release plan draft');
      await sendMessage(server.url, ana.token, publicId, 'release plan final');
      await sendMessage(server.url, ana.token, publicId, 'release notes, old plan');
      expect(await bodies(server.url, bob.token, 'release -draft')).toEqual(['release notes, old plan', 'release plan final']);
      expect(await bodies(server.url, bob.token, 'release -"old plan"')).toEqual(['release plan final', 'release plan draft']);
    });

    it('from: picks the author (case-insensitively); an unknown user matches nothing', async () => {
      await sendMessage(server.url, ana.token, publicId, 'deploy done');
      await sendMessage(server.url, bob.token, publicId, 'deploy failed');
      expect(await bodies(server.url, carol.token, `deploy from:${ana.username.toUpperCase()}`)).toEqual(['deploy done']);
      expect(await bodies(server.url, carol.token, `from:${bob.username}`)).toEqual(['deploy failed']);
      expect(await bodies(server.url, carol.token, 'deploy from:nobody_at_all')).toEqual([]);
      expect(await bodies(server.url, carol.token, `from:${ana.username} from:${bob.username}`)).toEqual([]);
    });

    it('in: picks the channel (case-insensitively, quoted too); an unknown channel matches nothing', async () => {
      const created = await gqlOk<{ createChannel: { id: string; name: string } }>(server.url, CREATE, { input: { name: 'ops-room', kind: 'PUBLIC' } }, { token: ana.token });
      await sendMessage(server.url, ana.token, created.createChannel.id, 'incident closed');
      await sendMessage(server.url, ana.token, publicId, 'incident opened');
      expect(await bodies(server.url, bob.token, 'incident in:OPS-Room')).toEqual(['incident closed']);
      expect(await bodies(server.url, bob.token, 'in:"ops-room"')).toEqual(['incident closed']);
      expect(await bodies(server.url, bob.token, 'incident in:public')).toEqual(['incident opened']);
      expect(await bodies(server.url, bob.token, 'incident in:no-such-room')).toEqual([]);
    });

    it('before:, after: and on: bound the day in UTC', async () => {
      const early = await sendMessage(server.url, ana.token, publicId, 'standup notes one');
      const midday = await sendMessage(server.url, ana.token, publicId, 'standup notes two');
      const late = await sendMessage(server.url, ana.token, publicId, 'standup notes three');
      const next = await sendMessage(server.url, ana.token, publicId, 'standup notes four');
      await backdate(early.id, '2026-03-09T23:59:59.999Z');
      await backdate(midday.id, '2026-03-10T00:00:00.000Z');
      await backdate(late.id, '2026-03-10T23:59:59.999Z');
      await backdate(next.id, '2026-03-11T00:00:00.000Z');
      expect(await bodies(server.url, bob.token, 'standup on:2026-03-10')).toEqual(['standup notes three', 'standup notes two']);
      expect(await bodies(server.url, bob.token, 'standup before:2026-03-10')).toEqual(['standup notes one']);
      expect(await bodies(server.url, bob.token, 'standup after:2026-03-10')).toEqual(['standup notes four']);
      expect(await bodies(server.url, bob.token, 'after:2026-03-09 before:2026-03-11')).toEqual(['standup notes three', 'standup notes two']);
    });

    it('lists every message the operators allow when there are no words', async () => {
      await sendMessage(server.url, ana.token, publicId, 'first');
      await sendMessage(server.url, bob.token, publicId, 'second');
      await sendMessage(server.url, ana.token, publicId, 'third');
      expect(await bodies(server.url, carol.token, `from:${ana.username}`)).toEqual(['third', 'first']);
    });

    it('treats an unknown operator as a plain word', async () => {
      await sendMessage(server.url, ana.token, publicId, 'see foo:bar for details');
      await sendMessage(server.url, ana.token, publicId, 'bar only');
      expect(await bodies(server.url, bob.token, 'foo:bar')).toEqual(['see foo:bar for details']);
    });
  });

  describe('what the viewer may read', () => {
    it('finds PUBLIC channels joined or not, own PRIVATE and DIRECT ones; never PRIVATE or DIRECT ones of others', async () => {
      const publicNotJoined = await createChannelDirectly(server.app, { kind: ChannelKind.PUBLIC, ownerId: bob.id });
      const privateOfOthers = await createChannelDirectly(server.app, { kind: ChannelKind.PRIVATE, ownerId: bob.id, memberIds: [carol.id] });
      const privateOwn = await createChannelDirectly(server.app, { kind: ChannelKind.PRIVATE, ownerId: bob.id, memberIds: [ana.id] });
      const directOwn = (await gqlOk<{ openDirectChannel: { id: string } }>(server.url, OPEN_DIRECT, { userId: bob.id }, { token: ana.token })).openDirectChannel.id;
      const directOfOthers = (await gqlOk<{ openDirectChannel: { id: string } }>(server.url, OPEN_DIRECT, { userId: carol.id }, { token: bob.token })).openDirectChannel.id;
      await sendMessage(server.url, bob.token, publicNotJoined, 'secret word in public');
      await sendMessage(server.url, bob.token, privateOfOthers, 'secret word in their private');
      await sendMessage(server.url, bob.token, privateOwn, 'secret word in my private');
      await sendMessage(server.url, bob.token, directOwn, 'secret word in my direct');
      await sendMessage(server.url, bob.token, directOfOthers, 'secret word in their direct');

      const found = (await search(server.url, ana.token, 'secret')).edges.map((edge) => edge.node.body);
      expect(found).toEqual(['secret word in my direct', 'secret word in my private', 'secret word in public']);
      // Operators do not open a way in either.
      const privateName = (await server.app.services.sql.query<{ name: string }>('select name from channels where id = $1', [privateOfOthers]))[0].name;
      expect(await bodies(server.url, ana.token, `in:${privateName}`)).toEqual([]);
      expect(await bodies(server.url, ana.token, `from:${bob.username}`)).toEqual(found);
      // Carol sees her own private and direct channels.
      expect((await bodies(server.url, carol.token, 'secret')).sort()).toEqual(['secret word in public', 'secret word in their direct', 'secret word in their private']);
    });

    it('needs a signed-in viewer', async () => {
      const response = await gql(server.url, SEARCH, { query: 'anything' });
      expect(errorCode(response)).toBe('UNAUTHENTICATED');
    });
  });

  describe('edits and deletions', () => {
    it('finds a message as soon as sendMessage answers, its current body after an edit, and never once deleted', async () => {
      const sent = await sendMessage(server.url, ana.token, publicId, 'apples are great');
      expect((await search(server.url, bob.token, 'apple')).edges.map((e) => e.node.id)).toEqual([sent.id]);

      await gqlOk(server.url, EDIT, { id: sent.id, body: 'oranges are great' }, { token: ana.token });
      expect(await bodies(server.url, bob.token, 'apples')).toEqual([]);
      expect(await bodies(server.url, bob.token, 'orange')).toEqual(['oranges are great']);

      await gqlOk(server.url, DELETE, { id: sent.id }, { token: ana.token });
      expect(await bodies(server.url, bob.token, 'orange')).toEqual([]);
      expect(await bodies(server.url, bob.token, `from:${ana.username}`)).toEqual([]);
    });
  });

  describe('paging', () => {
    it('pages newest first with first/after and reports the pages around', async () => {
      const sent: TestMessage[] = [];
      for (let i = 0; i < 5; i += 1) sent.push(await sendMessage(server.url, ana.token, publicId, `page item ${i}`));
      const newestFirst = sent.map((m) => m.id).reverse();

      const one = await search(server.url, bob.token, 'item', { first: 2 });
      expect(one.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(0, 2));
      expect(one.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, startCursor: one.edges[0].cursor, endCursor: one.edges[1].cursor });
      const two = await search(server.url, bob.token, 'item', { first: 2, after: one.pageInfo.endCursor! });
      expect(two.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(2, 4));
      expect(two.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
      const three = await search(server.url, bob.token, 'item', { first: 2, after: two.pageInfo.endCursor! });
      expect(three.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(4));
      expect(three.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
      // The default page is 20.
      expect((await search(server.url, bob.token, 'item')).edges).toHaveLength(5);
    });

    it('orders messages sent in the same instant by id and pages through them without loss', async () => {
      const sent: TestMessage[] = [];
      for (let i = 0; i < 4; i += 1) sent.push(await sendMessage(server.url, ana.token, publicId, `tie ${i}`));
      for (const message of sent) await backdate(message.id, '2026-05-05T12:00:00.000Z');
      const seen: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 4; page += 1) {
        const result = await search(server.url, bob.token, 'tie', { first: 1, after });
        seen.push(...result.edges.map((e) => e.node.id));
        after = result.pageInfo.endCursor ?? undefined;
      }
      expect(seen).toEqual(sent.map((m) => m.id).sort().reverse());
    });

    it('rejects a bad page size or cursor on its argument', async () => {
      expectBadQuery(await searchRaw(server.url, bob.token, 'x', { first: 101 }), 'first');
      expectBadQuery(await searchRaw(server.url, bob.token, 'x', { first: 0 }), 'first');
      expectBadQuery(await searchRaw(server.url, bob.token, 'x', { after: 'not a cursor' }), 'after');
      expectBadQuery(await searchRaw(server.url, bob.token, 'x', { after: Buffer.from('search:1:nope').toString('base64url') }), 'after');
      // A history cursor is not a search cursor.
      expectBadQuery(await searchRaw(server.url, bob.token, 'x', { after: Buffer.from('msg:5').toString('base64url') }), 'after');
    });
  });

  describe('bad and hostile input', () => {
    it('answers BAD_USER_INPUT on field "query" for empty, over 500 characters and malformed dates', async () => {
      for (const query of ['', '   ', 'x'.repeat(501), 'before:2026-13-01', 'on:tomorrow', 'after:2026-02-30']) {
        expectBadQuery(await searchRaw(server.url, ana.token, query));
      }
      expect((await search(server.url, ana.token, 'x'.repeat(500))).edges).toEqual([]);
    });

    it('never lets syntax reach PostgreSQL: open quotes, punctuation only, tsquery operators, many operators', async () => {
      await sendMessage(server.url, ana.token, publicId, 'open quote survives');
      expect(await bodies(server.url, bob.token, '"open quote')).toEqual(['open quote survives']);
      for (const query of ['!!!', '&|!():*', "'", '\\', 'a & b | !c', '<->', '"&" -"|" (:*)', 'or', '-', ' - "']) {
        const response = await searchRaw(server.url, bob.token, query);
        if (response.errors) expectBadQuery(response);
        else expect(Array.isArray(response.data?.searchMessages.edges)).toBe(true);
      }
      // 10,000 operators are over the length limit; as many as fit in 500 characters collapse to one filter.
      expectBadQuery(await searchRaw(server.url, bob.token, Array.from({ length: 10_000 }, (_, i) => `in:${i % 10}`).join(' ')));
      const many = Array.from({ length: 70 }, () => `in:public`).join(' ').slice(0, 500);
      expect(await bodies(server.url, bob.token, many)).toEqual(['open quote survives']);
    });

    it('answers any string cleanly (data, or BAD_USER_INPUT on "query") within a normal query time', async () => {
      await sendMessage(server.url, ana.token, publicId, 'some text to search through: alpha beta gamma');
      const started = Date.now();
      await search(server.url, bob.token, 'alpha beta');
      const normalMs = Date.now() - started;
      const alphabet = fc.constantFrom(...'ab "-:&|!()*\\\'<>fromin2026-01x'.split(''));
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.string({ maxLength: 520 }), fc.string({ unit: alphabet, maxLength: 120 }), fc.string({ unit: 'grapheme', maxLength: 80 })), async (query) => {
          const t0 = Date.now();
          const response = await searchRaw(server.url, bob.token, query);
          const elapsed = Date.now() - t0;
          expect(response.status).toBeLessThan(500);
          if (response.errors) expectBadQuery(response);
          else expect(Array.isArray(response.data?.searchMessages.edges)).toBe(true);
          // Generous for a shared machine; a syntax error or a runaway plan would show as far more.
          expect(elapsed).toBeLessThan(Math.max(1000, normalMs * 20));
        }),
        { numRuns: Number(process.env.PROPERTY_RUNS) || 150 },
      );
      const errors = await server.app.services.sql.query('select message from error_log');
      expect(errors).toEqual([]);
    }, 120_000);
  });
});
