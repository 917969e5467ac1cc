import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it). playwright-core downloads no browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Screenshots and other test output (git-ignored). */
export const ARTIFACTS_DIR = path.resolve(__dirname, '..', '..', 'test-artifacts');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // No host resolves, as on a machine without internet, so a page that needs a CDN breaks;
  // only 127.0.0.1, where test servers listen, stays reachable.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

function inCi(): boolean {
  return process.env.CI === 'true' || process.env.REQUIRE_REDIS === '1';
}

/**
 * A describe block that needs Chromium. Without it: a failing test in CI (CI=true or
 * REQUIRE_REDIS=1), a visibly skipped block elsewhere.
 */
export const describeWithBrowser: jest.Describe = ((name: string, fn: () => void) => {
  if (existsSync(CHROMIUM_PATH)) return describe(name, fn);
  if (inCi()) {
    return describe(name, () => {
      test('has Chromium to run in', () => {
        throw new Error(`${CHROMIUM_PATH} is missing: apt-get update && apt-get install -y chromium (.ci/run does this)`);
      });
    });
  }
  return describe.skip(`${name} [SKIPPED: no ${CHROMIUM_PATH}]`, fn);
}) as jest.Describe;

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

const openBrowsers = new Set<TestBrowser>();

/** Headless Chromium with a fresh profile; closeAllBrowsers() (in afterAll) closes leftovers. */
export async function launchBrowser(): Promise<TestBrowser> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'chat-test-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  const browser: TestBrowser = {
    context,
    async close() {
      openBrowsers.delete(browser);
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
  openBrowsers.add(browser);
  return browser;
}

export interface TestBrowserContexts {
  /** Isolated from each other (cookies, storage, network state), as two people's browsers. */
  contexts: BrowserContext[];
  close(): Promise<void>;
}

const openMultiBrowsers = new Set<TestBrowserContexts>();

/** One headless Chromium with `count` isolated contexts (cheaper than one browser each). */
export async function launchBrowserContexts(count: number): Promise<TestBrowserContexts> {
  const chromiumBrowser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const contexts = await Promise.all(Array.from({ length: count }, () => chromiumBrowser.newContext({ viewport: { width: 1280, height: 800 } })));
  const launched: TestBrowserContexts = {
    contexts,
    async close() {
      openMultiBrowsers.delete(launched);
      await chromiumBrowser.close();
    },
  };
  openMultiBrowsers.add(launched);
  return launched;
}

export async function closeAllBrowsers(): Promise<void> {
  await Promise.all([...openBrowsers, ...openMultiBrowsers].map((browser) => browser.close()));
}

/** The path of a new artifact file in test-artifacts/. */
export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return path.join(ARTIFACTS_DIR, name);
}
