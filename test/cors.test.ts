import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { loadConfig } from '../src/config';
import { actualRequestCors, corsMiddleware, originAllowed } from '../src/ops/cors';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { closeAllBrowsers, describeWithBrowser, launchBrowser, type TestBrowser } from './helpers/browser';
import { createChannel } from './helpers/channels';
import { createUser, type TestUser } from './helpers/factories';
import { sendMessage } from './helpers/messages';
import { disposeAllWsClients } from './helpers/ws';

/** A tiny static server: the web app's own origin, on a port of its own. */
async function startPageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>chat web app</title><p>web app</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const ME = 'query Me { me { id username } }';
const EVENTS = 'subscription Events($id: ID!) { channelEvents(channelId: $id) { __typename ... on MessageAdded { message { body } } } }';

/** fetch() from the page, the way Apollo Client's HTTP link does (JSON, bearer token). */
function pageQuery(page: Page, url: string, token: string, query: string): Promise<{ ok: true; body: any } | { ok: false; error: string }> {
  return page.evaluate(
    async ({ url, token, query }) => {
      try {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) });
        return { ok: true as const, body: await response.json() };
      } catch (error) {
        return { ok: false as const, error: String(error) };
      }
    },
    { url, token, query },
  );
}

/** A graphql-transport-ws subscription from the page; its messages collect in window.received. */
function pageSubscribe(page: Page, wsUrl: string, token: string, query: string, variables: Record<string, unknown>): Promise<'subscribed' | string> {
  return page.evaluate(
    ({ wsUrl, token, query, variables }) =>
      new Promise<string>((resolve) => {
        const received: unknown[] = [];
        (globalThis as unknown as { received: unknown[] }).received = received;
        const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
        socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
        socket.onmessage = (event) => {
          const message = JSON.parse(String(event.data));
          if (message.type === 'connection_ack') {
            socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
            resolve('subscribed');
          } else if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
          else received.push(message);
        };
        socket.onclose = (event) => resolve(`closed ${event.code}`);
      }),
    { wsUrl, token, query, variables },
  );
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('CORS configuration', () => {
  test('ALLOWED_ORIGINS: any origin outside production when unset, none in production unless configured, `*` or a list', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).allowedOrigins).toBe('*');
    expect(loadConfig({ NODE_ENV: 'production' }).allowedOrigins).toEqual([]);
    expect(loadConfig({ NODE_ENV: 'production', ALLOWED_ORIGINS: '*' }).allowedOrigins).toBe('*');
    expect(loadConfig({ NODE_ENV: 'production', ALLOWED_ORIGINS: 'https://a.example, https://b.example/' }).allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(() => loadConfig({ ALLOWED_ORIGINS: 'https://a.example/path' })).toThrow(/ALLOWED_ORIGINS/);
    expect(() => loadConfig({ CORS_MAX_AGE_SECONDS: '-1' })).toThrow(/CORS_MAX_AGE_SECONDS/);
  });

  test('actual requests on the lean GraphQL path get exactly the headers the cors package gives them', () => {
    /** The headers `cors` sets on a POST from `origin`. */
    const fromPackage = (allowed: '*' | string[], origin: string | undefined): Record<string, string> => {
      const set: Record<string, string> = {};
      const res = { getHeader: (name: string) => set[name.toLowerCase()], setHeader: (name: string, value: string) => void (set[name.toLowerCase()] = String(value)) };
      let nexted = false;
      corsMiddleware(allowed, 600)({ method: 'POST', headers: origin === undefined ? {} : { origin } } as never, res as never, () => void (nexted = true));
      expect(nexted).toBe(true);
      return set;
    };
    for (const allowed of ['*', [], ['http://a.example.test', 'http://b.example.test']] as Array<'*' | string[]>) {
      const lean = actualRequestCors(allowed);
      for (const origin of [undefined, 'http://a.example.test', 'http://b.example.test', 'http://evil.example.test']) {
        expect([allowed, origin, Object.fromEntries(lean(origin) ?? [])]).toEqual([allowed, origin, fromPackage(allowed, origin)]);
      }
    }
  });

  test('the same rule for WebSocket upgrades: no Origin and the server\'s own origin always pass', () => {
    expect(originAllowed(undefined, [])).toBe(true);
    expect(originAllowed('https://evil.example', [])).toBe(false);
    expect(originAllowed('https://api.example', [], 'api.example')).toBe(true);
    expect(originAllowed('https://a.example', ['https://a.example'])).toBe(true);
    expect(originAllowed('https://evil.example', '*')).toBe(true);
  });
});

describe('CORS over HTTP (preflight)', () => {
  let allowAll: TestApp;
  let listed: TestApp;
  beforeAll(async () => {
    allowAll = await startTestApp();
    listed = await startTestApp({ ALLOWED_ORIGINS: 'http://app.example.test', CORS_MAX_AGE_SECONDS: '900' });
  });
  afterAll(() => stopAllApps());

  const preflight = (url: string, origin: string) =>
    fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });

  test('an allowed origin gets its preflight answered and cached, without credentials', async () => {
    const response = await preflight(listed.url, 'http://app.example.test');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://app.example.test');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')?.split(',')).toEqual(expect.arrayContaining(['content-type', 'authorization']));
    expect(response.headers.get('access-control-max-age')).toBe('900');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('vary')).toMatch(/origin/i);
  });

  test('a refused origin gets no Access-Control-* header', async () => {
    const response = await preflight(listed.url, 'http://evil.example.test');
    expect([...response.headers.keys()].filter((name) => name.startsWith('access-control-allow'))).toEqual([]);
  });

  test('an actual request from an allowed origin gets it reflected, with Vary and the exposed headers; a refused one gets none', async () => {
    const post = (url: string, origin: string) => fetch(url, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    const allowed = await post(listed.url, 'http://app.example.test');
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://app.example.test');
    expect(allowed.headers.get('vary')).toMatch(/origin/i);
    expect(allowed.headers.get('access-control-expose-headers')).toBe('x-request-id,retry-after');
    const refused = await post(listed.url, 'http://evil.example.test');
    expect([...refused.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
    const any = await post(allowAll.url, 'http://anywhere.example.test');
    expect(any.headers.get('access-control-allow-origin')).toBe('*');
  });

  test('unset outside production: any origin, preflight cached for 600 s by default', async () => {
    const response = await preflight(allowAll.url, 'http://anywhere.example.test');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-max-age')).toBe('600');
  });
});

describeWithBrowser('CORS from a web app on another origin (Chromium)', () => {
  let pages: Awaited<ReturnType<typeof startPageServer>>;
  let allowed: TestApp;
  let refused: TestApp;
  let browser: TestBrowser;
  let page: Page;
  let alice: TestUser;

  beforeAll(async () => {
    pages = await startPageServer();
    allowed = await startTestApp({ ALLOWED_ORIGINS: `http://127.0.0.1:1,${pages.origin}` });
    refused = await startTestApp({ ALLOWED_ORIGINS: 'http://chat.example.test' });
    alice = await createUser(allowed.app);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(pages.origin);
  });
  afterAll(async () => {
    await closeAllBrowsers();
    await disposeAllWsClients();
    await stopAllApps();
    await pages?.close();
  });

  test('an allowed origin runs a query and a subscription', async () => {
    const result = await pageQuery(page, allowed.url, alice.token, ME);
    expect(result).toEqual({ ok: true, body: { data: { me: { id: alice.id, username: alice.username } } } });

    const channel = await createChannel(allowed.url, alice);
    const before = allowed.app.services.realtime.activeStreams;
    expect(await pageSubscribe(page, allowed.wsUrl, alice.token, EVENTS, { id: channel.id })).toBe('subscribed');
    await waitFor(() => allowed.app.services.realtime.activeStreams > before, 'the stream to go live');
    await sendMessage(allowed.url, alice.token, channel.id, 'hello across origins');
    await page.waitForFunction(() => ((globalThis as unknown as { received: unknown[] }).received ?? []).length > 0, undefined, { timeout: 5000 });
    const received = await page.evaluate(() => (globalThis as unknown as { received: unknown[] }).received);
    expect(received[0]).toEqual({ id: '1', type: 'next', payload: { data: { channelEvents: { __typename: 'MessageAdded', message: { body: 'hello across origins' } } } } });
  });

  test('a refused origin can neither query (the browser blocks the answer) nor open a socket', async () => {
    const user = await createUser(refused.app);
    const result = await pageQuery(page, refused.url, user.token, ME);
    expect(result).toEqual({ ok: false, error: expect.stringMatching(/TypeError: Failed to fetch/) });
    expect(await pageSubscribe(page, refused.wsUrl, user.token, EVENTS, { id: '1' })).toBe('closed 1006');
  });
});
