// Writes schema.graphql from the TypeGraphQL resolvers (npm run schema).
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { buildAppSchema, printAppSchema } from '../src/schema';
import { projectRoot } from '../src/shared/orm';

async function main(): Promise<void> {
  const target = path.join(projectRoot, 'schema.graphql');
  fs.writeFileSync(target, printAppSchema(await buildAppSchema()));
  console.log(`wrote ${path.relative(process.cwd(), target) || target}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
