import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithRedis, testRedisUrl } from './helpers/app';
import { BASE_URL_ENV } from './setup/test-infra';

// Keeps the benchmark suite (bench/, `npm run bench`) from rotting: runs it in quick mode
// against the compiled server and checks that every scenario produced its figures. It never
// asserts on speed.
const ROOT = path.join(__dirname, '..');
const SCENARIOS = ['fanout', 'sends', 'history', 'connections', 'subscribe', 'search', 'reactions', 'threads', 'request', 'attention'];

interface Figure {
  key: string;
  project: number | null;
  baseline: number | null;
  ratio: number | null;
}

interface BenchResult {
  mode: string;
  errors: unknown[];
  scenarios: Record<string, { figures: Figure[] }>;
}

/** The bench run of this file, so afterAll can stop it when the test gives up (a timeout). */
let running: ChildProcess | null = null;

function runQuickBench(resultsDir: string): Promise<{ code: number | null; output: string }> {
  // Through bash, like `npm run bench`: raise the open-files limit as far as allowed.
  const child = spawn('bash', ['-c', 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec node bench/run.js --quick'], {
    cwd: ROOT,
    env: {
      ...process.env,
      BENCH_DATABASE_URL: process.env[BASE_URL_ENV],
      BENCH_REDIS_URL: testRedisUrl() ?? undefined,
      BENCH_RESULTS_DIR: resultsDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running = child;
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      running = null;
      resolve({ code, output });
    }),
  );
}

describeWithRedis('npm run bench -- --quick', () => {
  let resultsDir: string;

  beforeAll(() => {
    resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-bench-'));
  });

  afterAll(async () => {
    // A run still going (the test timed out) would keep this jest worker from exiting: bench/run.js
    // stops its servers and generators on SIGTERM.
    const child = running;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(forced);
    }
    fs.rmSync(resultsDir, { recursive: true, force: true });
  }, 20_000);

  it('runs every scenario against the server and its baseline and writes the figures as JSON', async () => {
    const { code, output } = await runQuickBench(resultsDir);
    if (code !== 0) throw new Error(`bench exited with ${code}:\n${output.slice(-4000)}`);

    const latest = JSON.parse(fs.readFileSync(path.join(resultsDir, 'latest.json'), 'utf8')) as BenchResult;
    const timestamped = fs.readdirSync(resultsDir).filter((name) => /^\d{4}-\d\d-\d\dT.*\.json$/.test(name));
    expect(timestamped).toHaveLength(1);
    expect(latest.mode).toBe('quick');
    expect(latest.errors).toEqual([]);
    expect(Object.keys(latest.scenarios).sort()).toEqual([...SCENARIOS].sort());
    for (const name of SCENARIOS) {
      const { figures } = latest.scenarios[name];
      expect(figures.length).toBeGreaterThan(0);
      for (const figure of figures) {
        for (const value of [figure.project, figure.baseline, figure.ratio]) {
          if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
            throw new Error(`${name}.${figure.key}: expected positive numbers, got ${JSON.stringify(figure)}`);
          }
        }
      }
    }
    // The printed tables name every scenario.
    for (const title of ['1. Fan-out', '2. Sends', '3. History', '4. Connections', '5. Subscribe rate', '6. Search', '8. Reactions', '9. Threads', '10. Request path', '11. Attention']) expect(output).toContain(title);
  }, 210_000);
});
