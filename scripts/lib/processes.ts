import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// Private server processes for tests and the bench: free ports, waiting, and a Redis Cluster
// of our own (never the machine's shared services).

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Whether `redis-server` and `redis-cli` can be run here (the cluster tests need both). */
export function haveRedisBinaries(): boolean {
  return ['redis-server', 'redis-cli'].every((binary) => spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0);
}

interface ClusterNode {
  port: number;
  busPort: number;
  child: ChildProcess | null;
}

/**
 * A Redis Cluster of our own: three masters with one replica each, on free ports, its files in
 * a temp dir. `stopMasterOf(key)` kills the master owning a key's slot and resolves once its
 * replica has taken over.
 */
export class PrivateRedisCluster {
  private constructor(
    private readonly nodes: ClusterNode[],
    private readonly dir: string,
  ) {}

  static async start(masters = 3): Promise<PrivateRedisCluster> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-redis-cluster-'));
    const nodes: ClusterNode[] = [];
    for (let i = 0; i < masters * 2; i += 1) nodes.push({ port: await freePort(), busPort: await freePort(), child: null });
    const cluster = new PrivateRedisCluster(nodes, dir);
    try {
      for (const node of nodes) cluster.spawnNode(node);
      await Promise.all(nodes.map((node) => waitFor(() => cluster.ping(node.port), `redis-server on ${node.port}`)));
      const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8' });
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
      await cluster.waitUntilHealthy();
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /** The process ids of the running nodes (the bench reads their CPU time). */
  get pids(): number[] {
    return this.running.map((node) => node.child!.pid!);
  }

  /** `redis+cluster://` with every node as a seed, as REDIS_URL. */
  get url(): string {
    return `redis+cluster://${this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`;
  }

  private spawnNode(node: ClusterNode): void {
    const args = ['--port', String(node.port), '--cluster-port', String(node.busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes'];
    args.push('--cluster-config-file', `nodes-${node.port}.conf`, '--cluster-node-timeout', '1000', '--dir', this.dir, '--save', '', '--appendonly', 'no');
    // Replicas sync at once and may always take over (a test kills a master seconds after start).
    args.push('--repl-diskless-sync-delay', '0', '--cluster-replica-validity-factor', '0');
    node.child = spawn('redis-server', args, { stdio: 'ignore' });
  }

  /** Runs a redis-cli command against one node. */
  cli(port: number, ...args: string[]): string {
    const result = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 5000 });
    if (result.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }

  private async ping(port: number): Promise<boolean> {
    return this.cli(port, 'ping').trim() === 'PONG';
  }

  private get running(): ClusterNode[] {
    return this.nodes.filter((node) => node.child !== null);
  }

  /** Every running node sees the cluster as ok, every slot served, and every replica in sync with its master. */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () =>
        this.running.every((node) => {
          const info = this.cli(node.port, 'cluster', 'info');
          const replication = this.cli(node.port, 'info', 'replication');
          const synced = !/role:slave/.test(replication) || /master_link_status:up/.test(replication);
          return /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info) && synced;
        }),
      'the Redis Cluster to be healthy',
      timeoutMs,
    );
  }

  /** The port of the master serving `key`'s slot. */
  masterPortOf(key: string): number {
    const slot = Number(this.cli(this.running[0].port, 'cluster', 'keyslot', key).trim());
    for (const line of this.cli(this.running[0].port, 'cluster', 'nodes').trim().split('\n')) {
      const [, address, flags, , , , , state, ...ranges] = line.split(' ');
      if (!flags.includes('master') || flags.includes('fail') || state !== 'connected') continue;
      for (const range of ranges) {
        const [from, to = from] = range.split('-').map(Number);
        if (slot >= from && slot <= to) return Number(address.split('@')[0].split(':')[1]);
      }
    }
    throw new Error(`no master serves slot ${slot}`);
  }

  /** Kills the master owning `key`'s slot; resolves once a replica has taken the slot over. Returns the killed port. */
  async stopMasterOf(key: string): Promise<number> {
    const port = this.masterPortOf(key);
    const node = this.nodes.find((candidate) => candidate.port === port)!;
    const child = node.child!;
    node.child = null;
    child.kill('SIGKILL');
    await exited(child);
    await waitFor(async () => this.masterPortOf(key) !== port, 'a replica to take over', 30_000);
    await this.waitUntilHealthy();
    return port;
  }

  async destroy(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        const child = node.child;
        node.child = null;
        if (!child) return;
        child.kill('SIGKILL');
        await exited(child);
      }),
    );
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
