import { type ClassType, Field, ObjectType } from 'type-graphql';
import { BadUserInputError } from './errors';

@ObjectType({ simpleResolvers: true })
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field()
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
}

/** A connection of these edges, its start and end cursors taken from them. */
export function connectionOf<T>(edges: Edge<T>[], { hasNextPage, hasPreviousPage }: { hasNextPage: boolean; hasPreviousPage: boolean }): Connection<T> {
  return {
    edges,
    pageInfo: { hasNextPage, hasPreviousPage, startCursor: edges[0]?.cursor ?? null, endCursor: edges[edges.length - 1]?.cursor ?? null },
  };
}

/** `XEdge` and `XConnection` object types for a node type, as in TypeGraphQL's generic-types example. */
export function connectionTypes<T extends object>(name: string, nodeType: ClassType<T>) {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class EdgeType {
    @Field()
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true })
  class ConnectionType {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }

  return { EdgeType, ConnectionType };
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Validates `first`/`last`: default 20, 1..100. */
export function pageSize(value: number | null | undefined, field: string): number {
  if (value === undefined || value === null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    throw new BadUserInputError(field, `${field} must be between 1 and ${MAX_PAGE_SIZE}.`);
  }
  return value;
}

/**
 * Cursors are opaque: base64url of `<kind>:<payload>`. The kind stops a cursor from one
 * list being used in another; a malformed cursor is a BAD_USER_INPUT on that argument.
 */
export function encodeCursor(kind: string, payload: string | number): string {
  return Buffer.from(`${kind}:${payload}`, 'utf8').toString('base64url');
}

export function decodeCursor(kind: string, cursor: string, field: string): string {
  const invalid = () => new BadUserInputError(field, `${field} is not a valid cursor.`);
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const prefix = `${kind}:`;
  // No list is keyed by text with NUL (PostgreSQL refuses it): such a payload is forged.
  if (!text.startsWith(prefix) || text.includes('\u0000')) throw invalid();
  return text.slice(prefix.length);
}

/** For cursors whose payload is a non-negative integer (sequence numbers, offsets, ids). */
export function decodeIntCursor(kind: string, cursor: string, field: string): number {
  const payload = decodeCursor(kind, cursor, field);
  if (!/^\d{1,15}$/.test(payload)) throw new BadUserInputError(field, `${field} is not a valid cursor.`);
  return Number(payload);
}
