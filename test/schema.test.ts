import fs from 'node:fs';
import path from 'node:path';
import { buildAppSchema, printAppSchema } from '../src/schema';

describe('schema.graphql', () => {
  it('is up to date with the resolvers (run `npm run schema` after changing them)', async () => {
    const committed = fs.readFileSync(path.join(__dirname, '..', 'schema.graphql'), 'utf8');
    expect(committed).toBe(printAppSchema(await buildAppSchema()));
  });
});
