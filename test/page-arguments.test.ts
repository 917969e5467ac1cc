import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  getNamedType,
  getNullableType,
  type GraphQLArgument,
  type GraphQLField,
  GraphQLEnumType,
  type GraphQLObjectType,
  type GraphQLSchema,
  isNonNullType,
  isObjectType,
  isScalarType,
} from 'graphql';
import { gql } from './helpers/graphql';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { connectWs, disposeAllWsClients } from './helpers/ws';

// The generated schema (checked for staleness by test/schema.test.ts): a connection field
// added later is covered here without touching this file.
const schema = buildSchema(readFileSync(path.resolve(__dirname, '..', 'schema.graphql'), 'utf8'));

/** A literal for a required argument of a scalar or enum type, or null when there is none. */
function placeholder(arg: GraphQLArgument): string | null {
  const type = getNamedType(arg.type);
  if (type instanceof GraphQLEnumType) return type.getValues()[0]!.name;
  if (!isScalarType(type)) return null;
  if (type.name === 'Int' || type.name === 'Float') return '1';
  if (type.name === 'Boolean') return 'true';
  return '"1"';
}

function requiredArgs(field: GraphQLField<unknown, unknown>, skip: Set<string> = new Set()): string | null {
  const parts: string[] = [];
  for (const arg of field.args) {
    if (skip.has(arg.name) || !isNonNullType(arg.type) || arg.defaultValue !== undefined) continue;
    const value = placeholder(arg);
    if (value === null) return null;
    parts.push(`${arg.name}: ${value}`);
  }
  return parts.join(', ');
}

interface PagedField {
  coordinate: string;
  argument: 'first' | 'last';
  /** The query with `$n` in place of the page size. */
  query: string;
}

/** Every `first`/`last` argument of every field reachable from Query, with a query reaching it. */
function pagedFields(schema: GraphQLSchema): PagedField[] {
  // Breadth-first from Query: the shortest selection path to each object type.
  const paths = new Map<GraphQLObjectType, string[]>([[schema.getQueryType()!, []]]);
  const queue = [schema.getQueryType()!];
  while (queue.length > 0) {
    const type = queue.shift()!;
    for (const field of Object.values(type.getFields())) {
      const target = getNamedType(field.type);
      const args = requiredArgs(field, new Set(['first', 'last']));
      if (!isObjectType(target) || paths.has(target) || args === null) continue;
      paths.set(target, [...paths.get(type)!, args ? `${field.name}(${args})` : field.name]);
      queue.push(target);
    }
  }
  const found: PagedField[] = [];
  for (const [type, selection] of paths) {
    for (const field of Object.values(type.getFields())) {
      for (const argument of ['first', 'last'] as const) {
        const arg = field.args.find((candidate) => candidate.name === argument);
        if (!arg || getNamedType(arg.type).name !== 'Int') continue;
        const others = requiredArgs(field, new Set([argument]));
        if (others === null) throw new Error(`cannot build a query for ${type.name}.${field.name}`);
        const args = [others, `${argument}: $n`].filter(Boolean).join(', ');
        const leaf = isObjectType(getNullableType(getNamedType(field.type))) ? ' { __typename }' : '';
        const body = [...selection, `${field.name}(${args})${leaf}`].reduceRight((inner, outer) => `${outer} { ${inner} }`);
        found.push({ coordinate: `${type.name}.${field.name}`, argument, query: `query($n: Int) { ${body} }` });
      }
    }
  }
  return found;
}

const cases = pagedFields(schema);
const OUT_OF_RANGE = [0, -1, 101, 500];

describe('first/last outside the contract range (1..100)', () => {
  let server: TestApp;
  beforeAll(async () => {
    // A cost limit so low that `first: 500` (or even 100) is too expensive: the range rule must come first.
    server = await startTestApp({ GRAPHQL_MAX_COST: '50' });
  });
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  test('the schema has the connection fields this suite is about', () => {
    const coordinates = new Set(cases.map((c) => c.coordinate));
    for (const known of ['Query.messages', 'Query.users', 'Query.channels', 'Query.myActivity', 'Channel.members']) expect(coordinates).toContain(known);
    expect(cases.some((c) => c.coordinate === 'Query.messages' && c.argument === 'last')).toBe(true);
  });

  test.each(cases.map((c) => [`${c.coordinate}(${c.argument})`, c] as const))('%s over HTTP: BAD_USER_INPUT naming the argument, before the cost check', async (_name, c) => {
    for (const n of OUT_OF_RANGE) {
      const response = await gql(server.url, c.query, { n });
      expect(response.status).toBe(400);
      expect(response.errors).toHaveLength(1);
      expect(response.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', field: c.argument });
      expect(response.errors![0]!.message).toContain(c.argument);
      expect(response.data ?? null).toBeNull();
    }
    // As a literal too, and a variable's default.
    const literal = await gql(server.url, c.query.replace('($n: Int)', '').replace('$n', '500'));
    expect(literal.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: c.argument });
    const defaulted = await gql(server.url, c.query.replace('($n: Int)', '($n: Int = 101)'));
    expect(defaulted.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: c.argument });
    // In range, the rule says nothing (whatever the resolver then answers).
    const inRange = await gql(server.url, c.query, { n: 2 });
    expect(inRange.errors?.find((e) => e.extensions?.field === c.argument)).toBeUndefined();
  });

  test.each(cases.map((c) => [`${c.coordinate}(${c.argument})`, c] as const))('%s over graphql-ws: the same error', async (_name, c) => {
    const client = connectWs(server.wsUrl);
    try {
      for (const n of [0, 500]) {
        const result = await client.subscribe(c.query, { n }).next();
        expect(result.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: c.argument });
      }
    } finally {
      await client.dispose();
    }
  });
});
