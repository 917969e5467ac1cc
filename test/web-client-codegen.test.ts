import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(__dirname, '..');

describe('web client typed documents (web/src/gql)', () => {
  // The CLI in a child process: its ESM dependencies do not load under ts-jest's CommonJS.
  it('are up to date with schema.graphql and the documents in web/src (run `npm run codegen` after changing either)', async () => {
    const check = await promisify(execFile)(path.join(root, 'node_modules', '.bin', 'graphql-codegen'), ['--config', 'web/codegen.ts', '--check'], { cwd: root, env: { ...process.env, CI: 'true' } }).then(
      () => 'current',
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
    expect(check).toBe('current');
  }, 60_000);
});
