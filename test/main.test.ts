import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { workerDatabaseUrl } from './helpers/app';
import { type ServerProcess, spawnServer } from '../scripts/lib/server-process';

// These run the compiled server (npm test builds first), the way `npm start` does.

function run(env: Record<string, string>): ServerProcess {
  return spawnServer({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', ARGON2_MEMORY_KIB: '1024', ARGON2_ITERATIONS: '1', ...env });
}

async function stopAndExpectClean(running: ServerProcess): Promise<number> {
  const started = Date.now();
  running.child.kill('SIGTERM');
  const { code } = await running.exited;
  expect(code).toBe(0);
  return Date.now() - started;
}

describe('the compiled server (npm start)', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('exits with 1 and names the variable when configuration is bad', async () => {
    const running = run({ PORT: 'eighty' });
    children.push(running.child);
    const { code } = await running.exited;
    expect(code).toBe(1);
    expect(running.output()).toMatch(/PORT/);
  });

  it('starts against DATABASE_URL, serves, and stops on SIGTERM with exit code 0', async () => {
    const running = run({ DATABASE_URL: workerDatabaseUrl(), PORT: '0' });
    children.push(running.child);
    const url = await running.ready();
    expect(running.output()).toMatch(/in-process pub\/sub/);
    // The URL it says to open is the web client's page (on by default outside production).
    const [, pageUrl] = running.output().match(/"msg":"ready: open (http:\/\/[^"]+)"/)!;
    expect(pageUrl).toBe(url.replace(/graphql$/, ''));
    const page = await fetch(pageUrl!);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<div id="app">');
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    expect((await fetch(url.replace('/graphql', '/healthz'))).status).toBe(200);
    expect(await stopAndExpectClean(running)).toBeLessThan(10_000);
  });

  it('starts with no DATABASE_URL on an embedded PostgreSQL that keeps its data across restarts', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-embedded-'));
    fs.chmodSync(dataDir, 0o755);
    try {
      const publicChannelId = async (running: ServerProcess) => {
        const [, port] = await running.waitForLog(/"port":(\d+),"databaseDir"/);
        const client = new Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${port}/chat` });
        await client.connect();
        try {
          const { rows } = await client.query<{ id: string }>(`select id from channels where name = 'public'`);
          return rows[0]?.id;
        } finally {
          await client.end();
        }
      };
      const first = run({ DATA_DIR: dataDir, PORT: '0' });
      children.push(first.child);
      await first.waitForLog(/ready: open/);
      expect(first.output()).toMatch(/applied migrations/);
      const idBefore = await publicChannelId(first);
      expect(idBefore).toBeTruthy();
      expect(await stopAndExpectClean(first)).toBeLessThan(10_000);

      const second = run({ DATA_DIR: dataDir, PORT: '0' });
      children.push(second.child);
      await second.waitForLog(/ready: open/);
      expect(second.output()).not.toMatch(/applied migrations/);
      expect(await publicChannelId(second)).toBe(idBefore);
      expect(await stopAndExpectClean(second)).toBeLessThan(10_000);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
