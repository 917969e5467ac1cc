// One text policy for every user-visible free-text field (docs/limits.md): no direction
// overrides or isolates (U+202A-U+202E, U+2066-U+2069), no control characters (line breaks
// and tabs allowed where a field is multi-line), and never only invisible characters; right-to-left
// text (Arabic, Hebrew, with the right-to-left mark) stays as typed.
import { type TestApp, useTestServer } from './helpers/app';
import { UPDATE_PROFILE } from './helpers/accounts';
import { CREATE, UPDATE } from './helpers/channels';
import { createUser, type TestUser } from './helpers/factories';
import { gql } from './helpers/graphql';
import { EDIT, publicChannelId, SEND, sendMessage } from './helpers/messages';
import { checkText, isBlankText } from '../src/shared/text';
import { BadUserInputError } from '../src/shared/errors';

interface Field {
  name: string;
  /** Sends `text` through the API; resolves with the response and the value read back. */
  send(server: TestApp, user: TestUser, text: string): Promise<{ response: Awaited<ReturnType<typeof gql>>; stored?: unknown }>;
  field: string;
}

let counter = 0;
const fields: Field[] = [
  {
    name: 'sendMessage body',
    field: 'body',
    send: async ({ url, app }, user, text) => {
      const response = await gql(url, SEND, { input: { channelId: await publicChannelId(app), body: text } }, { token: user.token });
      return { response, stored: (response.data as any)?.sendMessage?.body };
    },
  },
  {
    name: 'editMessage body',
    field: 'body',
    send: async ({ url, app }, user, text) => {
      const message = await sendMessage(url, user.token, await publicChannelId(app), 'to edit');
      const response = await gql(url, EDIT, { id: message.id, body: text }, { token: user.token });
      return { response, stored: (response.data as any)?.editMessage?.body };
    },
  },
  {
    name: 'createChannel description',
    field: 'description',
    send: async ({ url }, user, text) => {
      const response = await gql(url, CREATE, { input: { name: `text-${++counter}-${Date.now()}`, description: text } }, { token: user.token });
      return { response, stored: (response.data as any)?.createChannel?.description };
    },
  },
  {
    name: 'updateChannel description',
    field: 'description',
    send: async ({ url }, user, text) => {
      const created = await gql(url, CREATE, { input: { name: `text-${++counter}-${Date.now()}` } }, { token: user.token });
      const response = await gql(url, UPDATE, { input: { channelId: (created.data as any).createChannel.id, description: text } }, { token: user.token });
      return { response, stored: (response.data as any)?.updateChannel?.description };
    },
  },
  {
    name: 'updateProfile displayName',
    field: 'displayName',
    send: async ({ url }, user, text) => {
      const response = await gql(url, UPDATE_PROFILE, { input: { displayName: text } }, { token: user.token });
      return { response, stored: (response.data as any)?.updateProfile?.displayName };
    },
  },
  {
    name: 'updateProfile bio',
    field: 'bio',
    send: async ({ url }, user, text) => {
      const response = await gql(url, UPDATE_PROFILE, { input: { bio: text } }, { token: user.token });
      return { response, stored: (response.data as any)?.updateProfile?.bio };
    },
  },
];

const REFUSED: Array<[string, string]> = [
  ['a right-to-left override', 'evil \u202Etxt.exe'],
  ['a left-to-right embedding', 'a \u202Ab'],
  ['a first-strong isolate', 'a \u2068b\u2069'],
  ['only zero-width characters', '\u200B\u200C\u200D\uFEFF'],
  ['only a Hangul filler and a zero-width space', '\u3164\u200B'],
  ['a bell', 'ding \u0007'],
  ['a line separator', 'a\u2028b'],
];

const ACCEPTED: Array<[string, string]> = [
  ['Arabic', 'مرحبا بالعالم'],
  ['Hebrew with a right-to-left mark', 'שלום\u200F עולם'],
  ['mixed text with a zero-width joiner inside an emoji', 'hi 👩\u200D💻 مرحبا'],
];

describe('one text policy for every user-visible field', () => {
  const suite = useTestServer();

  describe.each(fields.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    it.each(REFUSED)('refuses %s with BAD_USER_INPUT on its field', async (_label, text) => {
      const user = await createUser(suite.server.app);
      const { response } = await f.send(suite.server, user, text);
      expect(response.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', f.field]]);
    });

    it.each(ACCEPTED)('keeps %s as typed', async (_label, text) => {
      const user = await createUser(suite.server.app);
      const { response, stored } = await f.send(suite.server, user, text);
      expect(response.errors).toBeUndefined();
      expect(stored).toBe(text);
    });
  });
});

describe('shared/text (unit)', () => {
  it('allows line breaks and tabs only in multi-line fields', () => {
    expect(() => checkText('a\nb\tc', 'body', 'The message', { multiline: true })).not.toThrow();
    expect(() => checkText('a\nb', 'displayName', 'Display name', { multiline: false })).toThrow(BadUserInputError);
  });
  it('counts only visible characters as content', () => {
    expect(isBlankText(' \u200B\u2060\u00AD\u180E ')).toBe(true);
    expect(isBlankText('\u200Fא')).toBe(false);
  });
});
