import type { Page, Request as BrowserRequest } from 'playwright-core';
import { Channel, DEFAULT_CHANNEL_NAME } from '../src/channels/channel.entity';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { artifactPath, closeAllBrowsers, describeWithBrowser, launchBrowser, type TestBrowser } from './helpers/browser';
import { resetState } from './helpers/db';
import { createUser } from './helpers/factories';
import { gqlOk } from './helpers/graphql';
import { disposeAllWsClients } from './helpers/ws';

// What a browser sends when the user opens the URL.
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

/** Origins the bundle may name: documentation links and XML namespaces, never loaded. */
const DOCUMENTATION_ORIGINS = new Set([
  'http://www.w3.org', // SVG/XHTML namespace URIs
  'https://react.dev', // React's error-decoder links
  'https://github.com', // GraphiQL's logo link
  'https://codemirror.net', // the short-keys dialog's link
  'https://en.wikipedia.org', // graphql-js scalar descriptions
  'https://commonmark.org', // graphql-js @specifiedBy description
  'https://yarnpkg.com', // a comment in a bundled library
]);

afterAll(async () => {
  await closeAllBrowsers();
  await disposeAllWsClients();
  await stopAllApps();
});

function getPage(url: string, accept?: string): Promise<Response> {
  return fetch(url, { headers: accept ? { accept } : {} });
}

/** The script and stylesheet URLs an HTML page loads, and whether it has inline scripts. */
function pageResources(html: string): { scripts: string[]; styles: string[]; inlineScripts: number } {
  const scriptTags = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
  return {
    scripts: scriptTags.flatMap((tag) => [...tag.matchAll(/\bsrc="([^"]*)"/g)].map((match) => match[1]!)),
    inlineScripts: scriptTags.filter((tag) => !/\bsrc=/.test(tag)).length,
    styles: [...html.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*>/g)].map((match) => /\bhref="([^"]*)"/.exec(match[0])![1]!),
  };
}

describe('explorer over HTTP (introspection on)', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startTestApp();
  });

  test('GET /graphql asking for HTML returns the explorer page with a restrictive CSP', async () => {
    const response = await getPage(server.url, BROWSER_ACCEPT);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('vary')).toMatch(/accept/i);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    expect(html).toContain('<div id="explorer">');

    const csp = response.headers.get('content-security-policy') ?? '';
    const directives = new Map(csp.split(';').map((part) => {
      const [name, ...values] = part.trim().split(/\s+/);
      return [name!, values.join(' ')] as const;
    }));
    expect(directives.get('default-src')).toBe("'none'");
    expect(directives.get('script-src')).toBe("'self'");
    expect(directives.get('connect-src')).toBe(`'self' ws://127.0.0.1:${server.port} wss://127.0.0.1:${server.port}`);
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    // The page's <style> carries this response's nonce, and each response gets a fresh one.
    const nonce = /'nonce-([^']+)'/.exec(directives.get('style-src') ?? '')?.[1];
    expect(nonce).toBeTruthy();
    expect(html).toContain(`<style nonce="${nonce}">`);
    const again = await getPage(server.url, BROWSER_ACCEPT);
    expect(again.headers.get('content-security-policy')).not.toContain(`'nonce-${nonce}'`);
  });

  test('the page loads only same-origin scripts and styles, cached for good by their hashed names', async () => {
    const html = await (await getPage(server.url, BROWSER_ACCEPT)).text();
    const { scripts, styles, inlineScripts } = pageResources(html);
    expect(inlineScripts).toBe(0);
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    for (const [src, contentType] of [
      [scripts[0]!, /^(text|application)\/javascript/],
      [styles[0]!, /^text\/css/],
    ] as const) {
      // Root-relative paths: same origin as the page, whatever host it was reached by.
      expect(src).toMatch(/^\/explorer\/assets\/explorer-[A-Z0-9]+\.(js|css)$/);
      const asset = await fetch(new URL(src, server.url));
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(contentType);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await fetch(new URL('/explorer/assets/nope.js', server.url))).status).toBe(404);
  });

  test('the bundle names no external origin other than documentation links', async () => {
    const html = await (await getPage(server.url, BROWSER_ACCEPT)).text();
    const { scripts, styles } = pageResources(html);
    const origins = new Set<string>();
    for (const file of [html, ...(await Promise.all([...scripts, ...styles].map(async (src) => (await fetch(new URL(src, server.url))).text())))]) {
      for (const match of file.matchAll(/https?:\/\/[A-Za-z0-9.-]+(?::\d+)?/g)) origins.add(match[0]);
    }
    expect([...origins].filter((origin) => !DOCUMENTATION_ORIGINS.has(origin))).toEqual([]);
  });

  test('API clients still reach Apollo: POST works, GET without text/html gets no page', async () => {
    expect(await gqlOk(server.url, '{ __typename }')).toEqual({ __typename: 'Query' });
    for (const accept of [undefined, '*/*', 'application/json', 'application/graphql-response+json']) {
      // A GET query the way API clients send one (the header satisfies Apollo's CSRF check).
      const response = await fetch(`${server.url}?query=${encodeURIComponent('{ __typename }')}`, {
        headers: { 'apollo-require-preflight': 'true', ...(accept ? { accept } : {}) },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
      expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    }
  });
});

describe('explorer with INTROSPECTION=false', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startTestApp({ INTROSPECTION: 'false' });
  });

  test('GET /graphql asking for HTML does not serve the page, nor its assets', async () => {
    const response = await getPage(server.url, BROWSER_ACCEPT);
    expect(response.status).not.toBe(200);
    const body = await response.text();
    expect(body).not.toContain('id="explorer"');
    // Apollo's own landing page (loaded from a CDN) is off too.
    expect(body).not.toMatch(/apollographql|sandbox/i);
    expect((await fetch(new URL('/explorer/assets/', server.url))).status).toBe(404);
    // The API itself still works.
    expect(await gqlOk(server.url, '{ __typename }')).toEqual({ __typename: 'Query' });
  });
});

// GraphiQL's editors are CodeMirror 5 instances (the DOM node's `CodeMirror` property). Setting
// their text is what typing does, minus auto-closed brackets and completion popups.
const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const HEADERS_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
const RESPONSE_PANE = '.graphiql-response .CodeMirror';

async function setEditor(page: Page, selector: string, text: string): Promise<void> {
  await page.locator(selector).waitFor();
  await page.evaluate(
    ([sel, value]) => ((globalThis as any).document.querySelector(sel).CodeMirror as any).setValue(value),
    [selector, text] as const,
  );
}

/** Sets the query and waits until GraphiQL has parsed it (its tab takes the operation's name). */
async function setQuery(page: Page, query: string, operationName: string): Promise<void> {
  await setEditor(page, QUERY_EDITOR, query);
  await page.waitForFunction(
    (name) => (globalThis as any).document.querySelector('.graphiql-tab-button')?.textContent === name,
    operationName,
    { timeout: 10_000 },
  );
}

function responsePane(page: Page): Promise<string> {
  return page.evaluate((sel) => (globalThis as any).document.querySelector(sel).CodeMirror.getValue() as string, RESPONSE_PANE);
}

async function waitForResponsePane(page: Page, text: string, timeoutMs = 10_000): Promise<boolean> {
  return page
    .waitForFunction(
      ([sel, expected]) => ((globalThis as any).document.querySelector(sel)?.CodeMirror.getValue() as string | undefined)?.includes(expected),
      [RESPONSE_PANE, text] as const,
      { timeout: timeoutMs },
    )
    .then(
      () => true,
      () => false,
    );
}

function isOperation(request: BrowserRequest, operationName: string): boolean {
  return request.method() === 'POST' && (request.postData() ?? '').includes(`"operationName":"${operationName}"`);
}

interface OpenedExplorer {
  browser: TestBrowser;
  page: Page;
  /** Every URL the page requested (HTTP and WebSocket). */
  requests: string[];
  /** Content-Security-Policy violations the page reported. */
  cspViolations(): Promise<string[]>;
}

/** Opens the explorer as a user would, in a new Chromium with a fresh profile, and waits until GraphiQL has the schema. */
async function openExplorer(server: TestApp): Promise<OpenedExplorer> {
  const browser = await launchBrowser();
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
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
  const schemaLoaded = page.waitForResponse((response) => isOperation(response.request(), 'IntrospectionQuery'));
  const navigation = await page.goto(server.url);
  expect(navigation?.headers()['content-type']).toBe('text/html; charset=utf-8');
  const introspection = await schemaLoaded;
  expect({ status: introspection.status(), errors: ((await introspection.json()) as { errors?: unknown }).errors }).toEqual({ status: 200, errors: undefined });
  await page.locator(QUERY_EDITOR).waitFor();
  return {
    browser,
    page,
    requests,
    cspViolations: () => page.evaluate(() => (globalThis as { cspViolations?: string[] }).cspViolations ?? []),
  };
}

describeWithBrowser('explorer in headless Chromium (offline)', () => {
  let server: TestApp;
  let publicChannelId: string;

  beforeAll(async () => {
    server = await startTestApp();
  });

  beforeEach(async () => {
    await resetState(server.app);
    publicChannelId = (await server.app.services.orm.em.fork().findOneOrFail(Channel, { name: DEFAULT_CHANNEL_NAME })).id;
  });

  test('loads from the server alone and runs a query with the Authorization from the headers editor', async () => {
    const alice = await createUser(server.app, { displayName: 'Alice Explorer' });
    const { browser, page, requests, cspViolations } = await openExplorer(server);

    await setEditor(page, HEADERS_EDITOR, JSON.stringify({ Authorization: `Bearer ${alice.token}` }, null, 2));
    await setQuery(page, 'query Me {\n  me {\n    username\n    displayName\n  }\n}\n', 'Me');
    const sent = page.waitForRequest((request) => isOperation(request, 'Me'));
    await page.click('.graphiql-execute-button');
    expect((await sent).headers().authorization).toBe(`Bearer ${alice.token}`);

    expect(await waitForResponsePane(page, alice.username)).toBe(true);
    expect(JSON.parse(await responsePane(page))).toEqual({ data: { me: { username: alice.username, displayName: 'Alice Explorer' } } });
    await page.screenshot({ path: artifactPath('explorer-query.png') });

    // A dialog adds <style> elements at run time; the page's nonce lets them through the CSP.
    await page.click('button[aria-label="Open settings dialog"]');
    await page.getByRole('dialog').waitFor();
    const styles = await page.evaluate(() => [...(globalThis as any).document.querySelectorAll('style')].map((style: any) => Boolean(style.nonce)));
    expect(styles.length).toBeGreaterThan(1); // the page's own and the dialog's
    expect(styles.every(Boolean)).toBe(true);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });

    // Everything came from the test server (names resolve nowhere else in this browser).
    const origin = new URL(server.url).origin;
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await browser.close();
  }, 60_000);

  test('runs a channelEvents subscription over graphql-ws and shows a message sent over HTTP', async () => {
    const alice = await createUser(server.app, { username: 'alice_explorer', displayName: 'Alice' });
    const bob = await createUser(server.app, { username: 'bob_explorer', displayName: 'Bob' });
    const { browser, page, requests, cspViolations } = await openExplorer(server);

    // The socket's frames, to see the token travel in connection_init and the subscribe go out.
    const framesSent: string[] = [];
    let resolveSubscribeSent!: () => void;
    const subscribeSent = new Promise<void>((resolve) => (resolveSubscribeSent = resolve));
    page.on('websocket', (socket) =>
      socket.on('framesent', ({ payload }) => {
        framesSent.push(String(payload));
        if (String(payload).includes('"type":"subscribe"')) resolveSubscribeSent();
      }),
    );

    await setEditor(page, HEADERS_EDITOR, JSON.stringify({ Authorization: `Bearer ${alice.token}` }, null, 2));
    await setQuery(
      page,
      [
        'subscription LiveChannel {',
        `  channelEvents(channelId: "${publicChannelId}") {`,
        '    __typename',
        '    ... on MessageAdded {',
        '      message {',
        '        body',
        '        author { username }',
        '      }',
        '    }',
        '  }',
        '}',
        '',
      ].join('\n'),
      'LiveChannel',
    );
    await page.click('.graphiql-execute-button');
    await subscribeSent;

    const init = JSON.parse(framesSent.find((frame) => frame.includes('"type":"connection_init"'))!) as { payload: Record<string, string> };
    expect(init.payload.Authorization).toBe(`Bearer ${alice.token}`);
    const socketUrl = requests.find((url) => url.startsWith('ws:'));
    expect(socketUrl).toBe(server.wsUrl);

    // The server attaches the stream a moment after the subscribe frame, and nothing outside
    // marks that point; so send again until one arrives (usually the first).
    let delivered = false;
    for (let attempt = 1; attempt <= 10 && !delivered; attempt += 1) {
      await gqlOk(
        server.url,
        'mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id } }',
        { input: { channelId: publicChannelId, body: `Hello from Bob over HTTP (${attempt})` } },
        { token: bob.token },
      );
      delivered = await waitForResponsePane(page, 'Hello from Bob over HTTP', 3_000);
    }
    expect(delivered).toBe(true);
    const event = JSON.parse(await responsePane(page)) as { data: { channelEvents: { __typename: string; message: { body: string; author: { username: string } } } } };
    expect(event.data.channelEvents).toEqual({
      __typename: 'MessageAdded',
      message: { body: expect.stringMatching(/^Hello from Bob over HTTP \(\d+\)$/), author: { username: bob.username } },
    });

    await page.screenshot({ path: artifactPath('explorer.png') });
    expect(await cspViolations()).toEqual([]);
    await browser.close();
  }, 60_000);
});
