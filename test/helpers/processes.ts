import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migrateWithLock } from '../../src/shared/orm';
import { createAppOrm } from '../../src/database';
import { exited, freePort, waitFor } from '../../scripts/lib/processes';

import { stopAllApps } from './app';
import { disposeAllWsClients } from './ws';

export { freePort, haveRedisBinaries, PrivateRedisCluster } from '../../scripts/lib/processes';

/**
 * A redis-server of the suite's own (fault tests stop and restart it), started before the
 * suite. At its end: the sockets, then `stopApps` (the apps using it; by default every app
 * startTestApp started), then the server.
 */
export function usePrivateRedis(stopApps: () => Promise<unknown> = stopAllApps): { readonly redis: PrivateRedis } {
  const suite = {} as { redis: PrivateRedis };
  beforeAll(async () => {
    suite.redis = await PrivateRedis.start();
  });
  afterAll(async () => {
    await disposeAllWsClients();
    await stopApps();
    await suite.redis?.stop();
  });
  return suite;
}

// Private Redis and PostgreSQL servers for fault tests, which stop and restart them:
// never the machine's shared services.

/** A redis-server of our own on a free port, that a test may stop and start again. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.resume();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.child = child;
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = net.connect(this.port, '127.0.0.1', () => {
            socket.end();
            resolve(true);
          });
          socket.on('error', () => resolve(false));
        }),
      'redis-server',
    );
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing is answered. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited(child);
  }
}

/** An embedded PostgreSQL of our own (data in a temp dir) that a test may restart. */
export class PrivatePostgres {
  private child: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    readonly dataDir: string,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-fault-pg-'));
    fs.chmodSync(root, 0o755);
    const pg = new PrivatePostgres(await freePort(), path.join(root, 'data'));
    await pg.resume();
    const admin = new Client({ connectionString: pg.adminUrl });
    await admin.connect();
    await admin.query('create database chat');
    await admin.end();
    const orm = await createAppOrm({ databaseUrl: pg.url });
    await migrateWithLock(orm, pg.url);
    await orm.close(true);
    return pg;
  }

  get url(): string {
    return `postgres://postgres:postgres@127.0.0.1:${this.port}/chat`;
  }

  private get adminUrl(): string {
    return `postgres://postgres:postgres@127.0.0.1:${this.port}/postgres`;
  }

  async resume(): Promise<void> {
    const script = path.join(__dirname, '..', 'support', 'embedded-postgres.mjs');
    const child = spawn(process.execPath, [script, this.dataDir, String(this.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`embedded PostgreSQL exited: ${output}`);
      return output.includes('ready');
    }, 'embedded PostgreSQL', 60_000);
  }

  /** Stops the server (fast shutdown), keeping the data for resume(). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child) return;
    child.kill('SIGTERM');
    await exited(child);
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(path.dirname(this.dataDir), { recursive: true, force: true });
  }
}
