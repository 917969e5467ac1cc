import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { artifactPath, closeAllBrowsers, describeWithBrowser, launchBrowserContexts } from './helpers/browser';
import { resetState } from './helpers/db';
import { uniqueName } from './helpers/factories';
import { gqlOk } from './helpers/graphql';
import { disposeAllWsClients } from './helpers/ws';

// The reference web client (web/) served at `/`, driven in headless Chromium as two users.

afterAll(async () => {
  await closeAllBrowsers();
  await disposeAllWsClients();
  await stopAllApps();
});

/** Origins the bundle may name without loading them: documentation links and namespaces. */
const DOCUMENTATION_ORIGINS = new Set(['http://www.w3.org', 'https://react.dev', 'https://go.apollo.dev', 'https://www.apollographql.com', 'https://github.com', 'https://the-guild.dev', 'https://graphql.org', 'https://spec.graphql.org',
  // Apollo Client's hint to install its browser devtools
  'https://chrome.google.com', 'https://addons.mozilla.org']);

describe('web client over HTTP', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startTestApp();
  });

  test('GET / serves the page under the explorer\'s strict CSP, its assets from /web/assets', async () => {
    const response = await fetch(new URL('/', server.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port} wss://127.0.0.1:${server.port}`);
    expect(csp).not.toContain('unsafe');
    const html = await response.text();
    expect(html).toContain('<div id="app">');
    expect([...html.matchAll(/<script\b[^>]*>/g)].every((tag) => /\bsrc="\/web\/assets\/chat-[A-Z0-9]+\.js"/.test(tag[0]))).toBe(true);

    const assets = [...html.matchAll(/(?:src|href)="(\/web\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets).toHaveLength(2);
    const origins = new Set<string>();
    for (const asset of assets) {
      const file = await fetch(new URL(asset, server.url));
      expect(file.status).toBe(200);
      expect(file.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      for (const match of (await file.text()).matchAll(/https?:\/\/[A-Za-z0-9.-]+(?::\d+)?/g)) origins.add(match[0]);
    }
    // Nothing in the bundle points at another origin it could load from.
    expect([...origins].filter((origin) => !DOCUMENTATION_ORIGINS.has(origin))).toEqual([]);
  });

  test('WEB_CLIENT=false serves no page at /, and the API is unchanged', async () => {
    const off = await startTestApp({ WEB_CLIENT: 'false' });
    expect((await fetch(new URL('/', off.url))).status).toBe(404);
    expect((await fetch(new URL('/web/assets/', off.url))).status).toBe(404);
    expect(await gqlOk(off.url, '{ __typename }')).toEqual({ __typename: 'Query' });
    await off.stop();
  });
});

interface User {
  name: string;
  displayName: string;
  context: BrowserContext;
  page: Page;
  cspViolations(): Promise<string[]>;
  requests: string[];
}

async function openClient(server: TestApp, context: BrowserContext, displayName: string): Promise<User> {
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('websocket', (socket) => requests.push(socket.url()));
  await page.addInitScript(() => {
    const violations: string[] = [];
    (globalThis as { cspViolations?: string[] }).cspViolations = violations;
    (globalThis as any).document.addEventListener('securitypolicyviolation', (event: { violatedDirective: string; blockedURI: string }) =>
      violations.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  await page.goto(new URL('/', server.url).href);
  return {
    name: uniqueName(displayName.toLowerCase()),
    displayName,
    context,
    page,
    requests,
    cspViolations: () => page.evaluate(() => (globalThis as { cspViolations?: string[] }).cspViolations ?? []),
  };
}

async function signUp(user: User): Promise<void> {
  const form = user.page.getByTestId('signup-form');
  await form.getByLabel('Username').fill(user.name);
  await form.getByLabel('Display name').fill(user.displayName);
  await form.getByLabel('Email').fill(`${user.name}@example.com`);
  await form.getByLabel('Password').fill('correct horse battery');
  await form.getByRole('button', { name: 'Create account' }).click();
}

/** The bodies of the messages the open channel shows, top to bottom. */
function bodies(page: Page): Promise<string[]> {
  return page.getByTestId('channel-view').getByTestId('messages').getByTestId('message-body').allTextContents();
}

/** The open channel's message with that body. */
function channelMessage(page: Page, text: string) {
  return page.getByTestId('channel-view').getByTestId('message').filter({ has: page.getByTestId('message-body').getByText(text, { exact: true }) });
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
}

async function waitForMessage(page: Page, text: string): Promise<void> {
  await page.locator('[data-testid="message"]:not(.pending) [data-testid="message-body"]', { hasText: text }).first().waitFor();
}

describeWithBrowser('web client in headless Chromium, two users', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startTestApp();
    await resetState(server.app);
  });

  test('sign up, a DIRECT chat both ways, a reaction, a thread reply, a mention, offline catch-up without gap or duplicate, history paged upward, a retried send once', async () => {
    const { contexts } = await launchBrowserContexts(2);
    const [alice, bob] = await Promise.all([openClient(server, contexts[0]!, 'Alice'), openClient(server, contexts[1]!, 'Bob')]);

    // Both sign up and land in public.
    await Promise.all([signUp(alice), signUp(bob)]);
    for (const user of [alice, bob]) {
      await user.page.getByTestId('channel-title').filter({ hasText: '# public' }).waitFor();
      await user.page.getByTestId('me').filter({ hasText: user.displayName }).waitFor();
    }
    await send(alice.page, 'Hello public');
    await waitForMessage(bob.page, 'Hello public');
    await alice.page.screenshot({ path: artifactPath('web-channel.png') });

    // Alice opens a DIRECT chat with Bob from the user list.
    await alice.page.getByRole('link', { name: 'People' }).click();
    const bobEntry = alice.page.locator(`[data-testid="person"][data-username="${bob.name}"]`);
    await bobEntry.waitFor();
    await alice.page.screenshot({ path: artifactPath('web-people.png') });
    await bobEntry.getByTestId('message-user').click();
    await alice.page.getByTestId('channel-title').filter({ hasText: 'Bob' }).waitFor();
    await send(alice.page, 'Hi Bob');
    await waitForMessage(alice.page, 'Hi Bob');

    // Bob gets the new conversation in his list, with an unread badge, and opens it.
    const directLink = bob.page.getByTestId('direct-list').getByTestId('channel-link');
    await directLink.getByTestId('unread-badge').filter({ hasText: '1' }).waitFor();
    await directLink.getByRole('link').click();
    await waitForMessage(bob.page, 'Hi Bob');
    // Typing shows on the other side.
    await bob.page.getByTestId('composer').pressSequentially('Hi');
    await alice.page.getByTestId('typing').filter({ hasText: 'Bob is typing' }).waitFor();
    await send(bob.page, 'Hi Alice');
    await waitForMessage(alice.page, 'Hi Alice');
    await send(alice.page, 'How are you?');
    await waitForMessage(bob.page, 'How are you?');
    // Both have each other's presence: both have a socket open.
    await bob.page.locator('[data-testid="peer-presence"][data-online="true"]').waitFor();

    // Alice reacts to Bob's message; Bob sees it live.
    const hiAlice = channelMessage(alice.page, 'Hi Alice');
    await hiAlice.getByTestId('add-reaction').click();
    await hiAlice.locator('[data-testid="pick-reaction"][data-emoji="👍"]').click();
    await channelMessage(bob.page, 'Hi Alice').locator('[data-testid="reaction"][data-emoji="👍"]').filter({ hasText: '1' }).waitFor();

    // Alice replies in a thread; Bob sees the reply count and the reply in the side panel, and
    // the reply stays out of the channel's own list.
    await hiAlice.getByTestId('thread-link').click();
    await alice.page.getByTestId('thread-panel').waitFor();
    await alice.page.getByTestId('thread-composer').fill('In the thread');
    await alice.page.getByTestId('thread-composer').press('Enter');
    await alice.page.getByTestId('thread-panel').getByTestId('message-body').getByText('In the thread').waitFor();
    const bobsRoot = channelMessage(bob.page, 'Hi Alice');
    await bobsRoot.locator('[data-testid="thread-link"][data-replies="1"]').waitFor();
    await bobsRoot.getByTestId('thread-link').click();
    await bob.page.getByTestId('thread-panel').getByTestId('message-body').getByText('In the thread').waitFor();
    await bob.page.screenshot({ path: artifactPath('web-thread.png') });
    expect(await bodies(bob.page)).toEqual(['Hi Bob', 'Hi Alice', 'How are you?']);
    await bob.page.getByRole('button', { name: 'Close thread' }).click();
    await alice.page.getByRole('button', { name: 'Close thread' }).click();

    // A mention raises the other's notification count (Bob first reads what he has: in a
    // DIRECT channel every message notifies).
    await bob.page.getByRole('link', { name: /^Notifications/ }).click();
    await bob.page.getByRole('button', { name: 'Mark all read' }).click();
    await bob.page.getByTestId('notifications-count').waitFor({ state: 'detached' });
    await alice.page.getByTestId('channel-list').getByRole('link', { name: '# public' }).click();
    await alice.page.getByTestId('channel-title').filter({ hasText: '# public' }).waitFor();
    await send(alice.page, `@${bob.name} have a look`);
    await bob.page.getByTestId('notifications-count').filter({ hasText: '1' }).waitFor();
    await bob.page.getByTestId('notification').filter({ hasText: 'mentioned you' }).waitFor();
    await bob.page.screenshot({ path: artifactPath('web-notifications.png') });
    await bob.page.getByTestId('direct-list').getByTestId('channel-link').getByRole('link').click();
    await waitForMessage(bob.page, 'How are you?');
    await alice.page.getByTestId('direct-list').getByTestId('channel-link').getByRole('link').click();
    await waitForMessage(alice.page, 'How are you?');

    // Bob goes offline while Alice sends 20; back online, he shows each once, in order.
    await bob.context.setOffline(true);
    const burst = Array.from({ length: 20 }, (_, i) => `burst ${String(i + 1).padStart(2, '0')}`);
    for (const text of burst) await send(alice.page, text);
    await waitForMessage(alice.page, 'burst 20');
    await alice.page.waitForFunction(() => (globalThis as any).document.querySelectorAll('[data-testid="message"].pending').length === 0);
    expect((await bodies(bob.page)).filter((text) => text.startsWith('burst'))).toEqual([]);
    await bob.context.setOffline(false);
    await waitForMessage(bob.page, 'burst 20');
    // In order means the channel's order: Alice's client sends without waiting for the previous
    // answer, so two sends may reach the server (and take their seqs) the other way round.
    const sent = ['Hi Bob', 'Hi Alice', 'How are you?', ...burst];
    const expected = (await server.app.services.sql.query<{ body: string }>('select body from messages where body = any($1) order by seq', [sent])).map((row) => row.body);
    expect(expected.slice().sort()).toEqual(sent.slice().sort());
    expect(await bodies(bob.page)).toEqual(expected.slice(-(await bodies(bob.page)).length));
    expect((await bodies(bob.page)).filter((text) => text.startsWith('burst'))).toEqual(expected.filter((text) => text.startsWith('burst')));
    await bob.page.screenshot({ path: artifactPath('web-direct.png') });

    // Scrolling up pages the history back to the first message.
    const messages = bob.page.getByTestId('messages');
    for (let page = 0; page < 5 && !(await bob.page.getByTestId('history-start').isVisible()); page += 1) {
      const count = (await bodies(bob.page)).length;
      await messages.evaluate((element) => element.scrollTo({ top: 0 }));
      await bob.page.waitForFunction(
        (before) =>
          (globalThis as any).document.querySelectorAll('[data-testid="message-body"]').length > before ||
          (globalThis as any).document.querySelector('[data-testid="history-start"]') !== null,
        count,
      );
    }
    await bob.page.getByTestId('history-start').waitFor();
    expect(await bodies(bob.page)).toEqual(expected);

    // A send whose answer is lost shows as failed; its retry reuses the clientMessageId, so
    // the server keeps one message.
    let dropped = 0;
    await alice.page.route('**/graphql', async (route) => {
      if (dropped === 0 && (route.request().postData() ?? '').includes('"operationName":"SendMessage"')) {
        dropped += 1;
        await route.fetch(); // reaches the server, which stores the message
        return route.abort('connectionreset');
      }
      return route.continue();
    });
    await send(alice.page, 'Sent once');
    await alice.page.getByTestId('failed-send').waitFor();
    await alice.page.unroute('**/graphql');
    await alice.page.getByTestId('failed-send').getByRole('button', { name: 'Retry' }).click();
    await alice.page.getByTestId('failed-send').waitFor({ state: 'detached' });
    await waitForMessage(bob.page, 'Sent once');
    const channelId = await bob.page.getByTestId('channel-view').getAttribute('data-channel-id');
    const token = await bob.page.evaluate(() => (globalThis as any).localStorage.getItem('chat.token') as string);
    const history = await gqlOk<{ messages: { edges: Array<{ node: { body: string } }> } }>(
      server.url,
      'query ($channelId: ID!) { messages(channelId: $channelId, last: 50) { edges { node { body } } } }',
      { channelId },
      { token },
    );
    expect(history.messages.edges.map((edge) => edge.node.body)).toEqual([...expected, 'Sent once']);
    expect((await bodies(alice.page)).filter((text) => text === 'Sent once')).toHaveLength(1);
    expect((await bodies(bob.page)).filter((text) => text === 'Sent once')).toHaveLength(1);

    // Everything came from the test server, within the page's CSP.
    const origin = new URL(server.url).origin;
    for (const user of [alice, bob]) {
      expect(user.requests.filter((url) => new URL(url).origin.replace(/^ws/, 'http') !== origin)).toEqual([]);
      expect(await user.cspViolations()).toEqual([]);
    }
    await alice.page.goto(new URL('/#/profile', server.url).href);
    await alice.page.getByTestId('profile').waitFor();
    await alice.page.screenshot({ path: artifactPath('web-profile.png') });
  }, 90_000);
});

/** `WEB_SCREENSHOTS=1` copies the screenshots into docs/images (how the docs' images are made). */
afterAll(() => {
  if (process.env.WEB_SCREENSHOTS !== '1') return;
  const target = path.resolve(__dirname, '..', 'docs', 'images');
  mkdirSync(target, { recursive: true });
  for (const name of ['web-channel.png', 'web-people.png', 'web-direct.png', 'web-thread.png', 'web-notifications.png', 'web-profile.png']) copyFileSync(artifactPath(name), path.join(target, name));
});
