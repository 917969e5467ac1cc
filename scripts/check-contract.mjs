#!/usr/bin/env node
// npm run contract: runs the shared contract check (../shared/tools/check-contract.mjs) when
// the shared folder sits beside this repository, as in CI. A clone on its own checks
// schema.graphql against docs/contract.graphql, the copy kept here, with the same rule
// (graphql-js findBreakingChanges), and keeps that copy in step when both exist.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sharedTool = path.resolve(root, '..', 'shared', 'tools', 'check-contract.mjs');
const sharedContract = path.resolve(root, '..', 'shared', 'api', 'contract.graphql');
const localContract = path.join(root, 'docs', 'contract.graphql');

if (existsSync(sharedTool)) {
  if (existsSync(sharedContract) && readFileSync(sharedContract, 'utf8') !== readFileSync(localContract, 'utf8')) {
    console.error('docs/contract.graphql differs from ../shared/api/contract.graphql: copy the shared one over it.');
    process.exit(1);
  }
  // Arguments (`--areas search`: the API areas this project claims) go to the shared tool.
  const result = spawnSync(process.execPath, [sharedTool, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

const graphql = createRequire(path.join(root, 'package.json'))('graphql');
const contract = graphql.buildSchema(readFileSync(localContract, 'utf8'));
const schema = graphql.buildSchema(readFileSync(path.join(root, 'schema.graphql'), 'utf8'));
const problems = graphql.findBreakingChanges(contract, schema);
for (const problem of problems) console.log(`${problem.type}: ${problem.description}`);
console.log(problems.length === 0 ? 'contract holds (checked against docs/contract.graphql; ../shared is not here)' : `${problems.length} contract problems`);
process.exit(problems.length === 0 ? 0 : 1);
