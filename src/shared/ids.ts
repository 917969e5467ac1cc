import {
  getNamedType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLSchema,
} from 'graphql';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** IDs are UUIDs; anything else cannot name an existing row (and must not reach SQL as a uuid). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/**
 * The canonical (lower-case) form of an id. PostgreSQL reads `3F2A…` and `3f2a…` as the same
 * uuid, but ids are also compared and stored as text (`userId === viewer`, the `dm:<a>:<b>`
 * name of a DIRECT channel, Redis topics): every id argument is canonical before any code sees it.
 */
export function canonicalId(value: unknown): unknown {
  return isUuid(value) ? value.toLowerCase() : value;
}

/** Whether a value of this input type can hold an ID somewhere (itself, a list item, an input field). */
function holdsId(type: GraphQLInputType, seen = new Set<string>()): boolean {
  const named = getNamedType(type);
  if (isScalarType(named)) return named.name === 'ID';
  if (!isInputObjectType(named) || seen.has(named.name)) return false;
  seen.add(named.name);
  return Object.values(named.getFields()).some((field) => holdsId(field.type, seen));
}

/** `value` of `type` with every ID in it canonical (a copy where something changed). */
function canonicalValue(type: GraphQLInputType, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (isNonNullType(type)) return canonicalValue(type.ofType, value);
  if (isListType(type)) return Array.isArray(value) ? value.map((item) => canonicalValue(type.ofType, item)) : canonicalValue(type.ofType, value);
  if (isScalarType(type)) return type.name === 'ID' ? canonicalId(value) : value;
  if (!isInputObjectType(type) || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const field of Object.values(type.getFields())) {
    if (field.name in copy && holdsId(field.type)) copy[field.name] = canonicalValue(field.type, copy[field.name]);
  }
  return copy;
}

function canonicalArgs(args: readonly GraphQLArgument[], values: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...values };
  for (const arg of args) if (arg.name in copy) copy[arg.name] = canonicalValue(arg.type, copy[arg.name]);
  return copy;
}

/**
 * The one place ids are parsed: every field of `schema` with an argument that holds an ID (a
 * direct argument, a list, or a field of an input object) gets its arguments canonical before
 * its resolver (and, for subscriptions, its subscribe) runs. Wrapping the fields, rather than
 * replacing the ID scalar, holds under graphql-jit too, which coerces ID variables inline by name.
 */
export function canonicalizeIdArguments(schema: GraphQLSchema): void {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields()) as Array<GraphQLField<unknown, unknown>>) {
      const idArgs = field.args.filter((arg) => holdsId(arg.type));
      if (idArgs.length === 0) continue;
      const { resolve, subscribe } = field;
      if (resolve) field.resolve = (source, args, context, info) => resolve(source, canonicalArgs(idArgs, args), context, info);
      if (subscribe) field.subscribe = (source, args, context, info) => subscribe(source, canonicalArgs(idArgs, args), context, info);
    }
  }
}
