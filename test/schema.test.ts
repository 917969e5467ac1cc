import fs from 'node:fs';
import path from 'node:path';
import { isObjectType } from 'graphql';
import { buildAppSchema, printAppSchema } from '../src/schema';

describe('schema.graphql', () => {
  it('is up to date with the resolvers (run `npm run schema` after changing them)', async () => {
    const committed = fs.readFileSync(path.join(__dirname, '..', 'schema.graphql'), 'utf8');
    expect(committed).toBe(printAppSchema(await buildAppSchema()));
  });
});

describe('plain fields', () => {
  it('read their property with no resolver of their own (every @ObjectType sets simpleResolvers), so graphql-jit inlines them', async () => {
    const schema = await buildAppSchema();
    const wrapped: string[] = [];
    let plain = 0;
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (!field.resolve) plain += 1;
        // type-graphql's wrapper of a plain field runs its (here always empty) middleware chain, then reads root[name].
        else if (String(field.resolve).includes('root[fieldMetadata.name]')) wrapped.push(`${type.name}.${field.name}`);
      }
    }
    expect(wrapped).toEqual([]);
    expect(plain).toBeGreaterThan(50);
  });
});
