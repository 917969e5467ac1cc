// The membership cap (MAX_CHANNELS_PER_USER) and what it bounds: the cost of `myChannels`
// (an unpaginated list) is its real bound, the cap, not a nominal 50.
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { CREATE, INVITE, JOIN, MY_CHANNELS, OPEN_DIRECT } from './helpers/channels';
import { resetState } from './helpers/db';
import { createUser } from './helpers/factories';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { createChannelDirectly } from './helpers/messages';
import { ChannelKind } from '../src/channels/channel.entity';

const MEMBERS_OF_MY_CHANNELS = '{ myChannels { id members(first: 5) { edges { node { id username displayName bio } } } } }';

describe('membership cap and the cost of myChannels', () => {
  afterAll(stopAllApps);

  describe('with a cap of 1,000', () => {
    let server: TestApp;
    beforeAll(async () => {
      server = await startTestApp({ MAX_CHANNELS_PER_USER: '1000' });
    });

    it('costs myChannels { members(first: 5) } for 1,000 channels: QUERY_TOO_COMPLEX', async () => {
      const alice = await createUser(server.app);
      const response = await gql(server.url, MEMBERS_OF_MY_CHANNELS, {}, { token: alice.token });
      expect(errorCode(response)).toBe('QUERY_TOO_COMPLEX');
      expect(response.errors![0].extensions!.cost).toBeGreaterThan(5000);
    });
  });

  describe('with a cap of 3', () => {
    let server: TestApp;
    beforeAll(async () => {
      server = await startTestApp({ MAX_CHANNELS_PER_USER: '3' });
    });
    beforeEach(() => resetState(server.app));

    it('refuses joining, creating, being invited to or opening a DIRECT channel beyond the cap with CONFLICT', async () => {
      // `public` is the first membership of every new user.
      const [alice, bob, carol] = [await createUser(server.app), await createUser(server.app), await createUser(server.app)];
      const open = await createChannelDirectly(server.app, { kind: ChannelKind.PUBLIC, ownerId: bob.id });
      const another = await createChannelDirectly(server.app, { kind: ChannelKind.PUBLIC, ownerId: bob.id });
      await gqlOk(server.url, JOIN, { id: open }, { token: alice.token });
      await gqlOk(server.url, CREATE, { input: { name: `cap-${Date.now()}` } }, { token: alice.token });
      expect((await gqlOk(server.url, MY_CHANNELS, {}, { token: alice.token })).myChannels).toHaveLength(3);

      expect(errorCode(await gql(server.url, JOIN, { id: another }, { token: alice.token }))).toBe('CONFLICT');
      expect(errorCode(await gql(server.url, CREATE, { input: { name: `cap-more-${Date.now()}` } }, { token: alice.token }))).toBe('CONFLICT');
      expect(errorCode(await gql(server.url, OPEN_DIRECT, { userId: carol.id }, { token: alice.token }))).toBe('CONFLICT');
      const bobsPrivate = await createChannelDirectly(server.app, { kind: ChannelKind.PRIVATE, ownerId: bob.id });
      expect(errorCode(await gql(server.url, INVITE, { id: bobsPrivate, userId: alice.id }, { token: bob.token }))).toBe('CONFLICT');
      expect((await gqlOk(server.url, MY_CHANNELS, {}, { token: alice.token })).myChannels).toHaveLength(3);
      // Carol, below the cap, is not affected.
      await gqlOk(server.url, JOIN, { id: another }, { token: carol.token });
    });
  });
});
