import http from 'node:http';
import { Client } from 'pg';
import WebSocket from 'ws';
import { testRedisUrl, workerDatabaseUrl } from './helpers/app';
import { resetDatabase } from './helpers/db';
import { createAppOrm } from '../src/database';
import { spawnServer } from '../scripts/lib/server-process';

// SIGTERM while clients are sending: the compiled server (npm test builds first) stops
// accepting, finishes what is in flight, closes sockets with 1001 and exits 0 in time;
// every send it acknowledged is in the database.

function post(url: string, body: unknown, token: string, agent: http.Agent): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, json: JSON.parse(text) });
        } catch (error) {
          reject(error);
        }
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

describe('SIGTERM under load', () => {
  beforeAll(async () => {
    const orm = await createAppOrm({ databaseUrl: workerDatabaseUrl() });
    await resetDatabase(orm);
    await orm.close(true);
  });

  it('finishes in-flight sends, closes sockets with 1001, exits 0 within 10 s, and loses nothing acknowledged', async () => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: '0',
      DATABASE_URL: workerDatabaseUrl(),
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_ITERATIONS: '1',
      RATE_LIMIT_SEND_MESSAGE: '1000000/1',
      REDIS_KEY_PREFIX: `shutdown-test:${process.pid}:`,
    };
    const redisUrl = testRedisUrl();
    if (redisUrl) env.REDIS_URL = redisUrl;
    const server = spawnServer(env);
    const child = server.child;
    const exited = server.exited.then(({ code }) => code);
    try {
      const url = await server.ready();
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
      const signup = await post(url, { query: 'mutation { signup(input: { email: "sigterm@example.test", username: "sigterm", password: "a long enough password" }) { token } }' }, '', agent);
      const token: string = signup.json.data.signup.token;
      const mine = await post(url, { query: '{ myChannels { id } }' }, token, agent);
      const channelId: string = mine.json.data.myChannels[0].id;

      const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      const socketClosed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      await new Promise<void>((resolve) => socket.on('open', () => resolve()));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      await new Promise<void>((resolve) => socket.on('message', (data) => JSON.parse(data.toString()).type === 'connection_ack' && resolve()));

      // Keep 16 sends in flight all the time, and pull the plug in the middle of it.
      const acknowledged: string[] = [];
      let sending = true;
      const sender = async (worker: number) => {
        for (let i = 0; sending; i += 1) {
          const body = `w${worker}-${i}`;
          try {
            const response = await post(url, { query: 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id body } }', variables: { input: { channelId, body } } }, token, agent);
            if (response.json.data?.sendMessage?.body === body) acknowledged.push(response.json.data.sendMessage.id);
            else if (response.status >= 500) break;
          } catch {
            break; // refused or reset: the server has stopped accepting
          }
        }
      };
      const senders = Array.from({ length: 16 }, (_, worker) => sender(worker));
      await new Promise((resolve) => setTimeout(resolve, 400));
      const stoppedAt = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
      sending = false;
      await Promise.all(senders);
      agent.destroy();
      expect(await socketClosed).toBe(1001);

      expect(acknowledged.length).toBeGreaterThan(0);
      const db = new Client({ connectionString: workerDatabaseUrl() });
      await db.connect();
      try {
        const { rows } = await db.query<{ id: string }>('select id from messages where id = any($1::uuid[])', [acknowledged]);
        expect(rows.length).toBe(acknowledged.length);
        // Sequence numbers stay gapless through the shutdown.
        const seqs = await db.query<{ max: string; count: string }>('select max(seq) as max, count(*) as count from messages where channel_id = $1', [channelId]);
        expect(Number(seqs.rows[0].max)).toBe(Number(seqs.rows[0].count));
      } finally {
        await db.end();
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
