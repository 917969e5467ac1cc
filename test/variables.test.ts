// Unit tests of the variable pre-check (src/shared/variables.ts) on a tiny schema; the API
// tests are in security-floods.test.ts.
import { buildSchema, type OperationDefinitionNode, parse } from 'graphql';
import { checkVariables, MAX_VARIABLE_ERRORS, resolveOperation } from '../src/shared/variables';

const schema = buildSchema(`
  input Point { x: Int!, y: Int!, label: String }
  type Query { at(p: Point!, n: Int, tags: [String!]): Int }
`);

function operation(query: string, name?: string): OperationDefinitionNode {
  const resolved = resolveOperation(parse(query), name);
  if (!(resolved instanceof Error)) return resolved;
  throw resolved;
}

const AT = operation('query Q($p: Point!, $n: Int = 3, $tags: [String!]) { at(p: $p, n: $n, tags: $tags) }');
const check = (variables: Record<string, unknown> | undefined, suggestions = true) =>
  checkVariables(schema, AT, variables, { suggestions }).map((error) => ({ message: error.message, ...error.extensions }));

describe('checkVariables', () => {
  it('accepts valid variables, defaults and omitted nullable ones', () => {
    expect(check({ p: { x: 1, y: 2 } })).toEqual([]);
    expect(check({ p: { x: 1, y: 2, label: null }, n: null, tags: ['a'] })).toEqual([]);
  });

  it('reports a missing or null required variable with the variable as field', () => {
    expect(check(undefined)).toEqual([{ message: 'Variable "$p" of required type "Point!" was not provided.', code: 'BAD_USER_INPUT', field: 'p', http: { status: 400 } }]);
    expect(check({ p: null })[0]).toMatchObject({ message: 'Variable "$p" of non-null type "Point!" must not be null.', field: 'p' });
  });

  it('names the innermost field and its path, never the value', () => {
    expect(check({ p: { x: 'one', y: 2 } })[0]).toMatchObject({ message: 'Variable "$p" got invalid value at "p.x"; Int cannot represent non-integer value: "one"', field: 'x' });
    expect(check({ p: { x: 1 } })[0]).toMatchObject({ field: 'y' });
    expect(check({ p: { x: 1, y: 2 }, tags: ['a', 5] })[0]).toMatchObject({ message: expect.stringContaining('at "tags[1]"'), field: 'tags' });
    const [unknown] = check({ p: { x: 1, y: 2, secret: 'do not echo me' } });
    expect(unknown).toMatchObject({ field: 'secret' });
    expect(unknown.message).not.toContain('do not echo me');
    // An unknown empty key names no field: the variable does (found by the property suite).
    expect(check({ p: { x: 1, y: 2, '': '' } })[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'p' });
  });

  it(`stops at ${MAX_VARIABLE_ERRORS} errors and cuts long names and reasons`, () => {
    const many: Record<string, unknown> = { x: 1, y: 2 };
    for (let i = 0; i < 5000; i += 1) many[`k${i}`] = i;
    expect(check({ p: many })).toHaveLength(MAX_VARIABLE_ERRORS);
    const [long] = check({ p: { x: 1, y: 2, ['k'.repeat(10_000)]: 1 } });
    expect(long.message.length).toBeLessThan(400);
    expect(String((long as Record<string, unknown>).field).length).toBeLessThanOrEqual(65);
  });

  it('drops "Did you mean" without suggestions', () => {
    expect(check({ p: { x: 1, y: 2, lable: 'a' } })[0].message).toContain('Did you mean "label"?');
    expect(check({ p: { x: 1, y: 2, lable: 'a' } }, false)[0].message).not.toContain('Did you mean');
  });
});

describe('resolveOperation', () => {
  it('finds the operation, or gives BAD_REQUEST', () => {
    expect(operation('query A { at(p: {x: 1, y: 1}) } query B { at(p: {x: 1, y: 1}) }', 'B').name?.value).toBe('B');
    const unknown = resolveOperation(parse('query A { __typename }'), 'C');
    expect(unknown).toMatchObject({ message: 'Unknown operation named "C".', extensions: { code: 'BAD_REQUEST' } });
    expect(resolveOperation(parse('query A { __typename } query B { __typename }'), undefined)).toMatchObject({ extensions: { code: 'BAD_REQUEST' } });
  });
});
