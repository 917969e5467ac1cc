import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  isListType,
  getNullableType,
  getOperationAST,
  Kind,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  type Token,
  validate,
  type ValidationContext,
  type ValidationRule,
  visit,
} from 'graphql';
import { type ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { LRUCache } from 'lru-cache';
import { DEFAULT_PAGE_SIZE } from './relay';
import { pageArgumentError } from './page-arguments';
import { listCapOf } from './list-cap';
import { withoutSuggestions } from './errors';

/** Limits every GraphQL document meets before any resolver or SQL runs, over HTTP and graphql-ws alike. */
export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxCost: number;
}

/**
 * Cost: one per field, times the page size for paginated fields (`first`/`last`, default 20)
 * and, for lists without `first`/`last` (myChannels), their real bound `listSize` (the
 * membership cap, MAX_CHANNELS_PER_USER) or the cap declared with @ListCap (shared/list-cap.ts),
 * so nested lists multiply as they do in SQL.
 */
function paginationEstimator(listSize: number): ComplexityEstimator {
  return ({ field, args, childComplexity }) => {
    const paginated = field.args.some((arg) => arg.name === 'first' || arg.name === 'last');
    if (paginated) {
      const requested = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : DEFAULT_PAGE_SIZE;
      return 1 + Math.max(1, requested) * Math.max(1, childComplexity);
    }
    // A connection's edges are already counted by the page size of the field that returned it.
    if (field.name === 'edges') return 1 + childComplexity;
    // A list the server caps (@ListCap, shared/list-cap.ts) counts at its cap.
    const cap = listCapOf(field);
    if (cap !== null && isListType(getNullableType(field.type))) return 1 + cap * Math.max(1, childComplexity);
    if (isListType(getNullableType(field.type))) return 1 + listSize * Math.max(1, childComplexity);
    return undefined;
  };
}

/** Report through the validation context (a normal validation error) instead of throwing. */
const report = { propagateOnRejection: false, onReject: [(context: unknown, error: GraphQLError) => (context as ValidationContext).reportError(error)] };

export function limitValidationRules(limits: QueryLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, exposeLimits: true, ...report }) as unknown as ValidationRule,
    // Every alias counts, `__typename` ones too.
    maxAliasesRule({ n: limits.maxAliases, allowList: [], exposeLimits: true, ...report }) as unknown as ValidationRule,
  ];
}

export class QueryCostError extends GraphQLError {
  constructor(cost: number, max: number) {
    super(`Query is too expensive: cost ${cost} exceeds the limit of ${max}. Ask for smaller pages or fewer nested lists.`, {
      // `http` is read (and removed) by Apollo: a client error, not a 500.
      extensions: { code: 'QUERY_TOO_COMPLEX', cost, maxCost: max, http: { status: 400 } },
    });
  }
}

/**
 * Introspection is costed by its own rules (it is off in production, and depth already
 * exempts it): GraphiQL's schema query would otherwise cost millions.
 */
function isIntrospectionOnly(document: DocumentNode, operationName: string | undefined | null): boolean {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return false;
  return operation.selectionSet.selections.every((selection) => selection.kind === Kind.FIELD && selection.name.value.startsWith('__'));
}

/** The operation's cost, or an error when it is over the limit (variables are known by now). */
export function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
  maxCost: number,
  listSize: number,
): QueryCostError | null {
  if (isIntrospectionOnly(document, operationName)) return null;
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [paginationEstimator(listSize), simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch {
    // Variable coercion problems are reported by execution itself, with a better message.
    return null;
  }
  return cost > maxCost ? new QueryCostError(cost, maxCost) : null;
}

/** Variables that can change an operation's cost: those of `first`/`last` arguments and of directives (`@include`, `@skip`). */
function costVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  visit(document, {
    Argument(node, _key, _parent, _path, ancestors) {
      if (node.value.kind !== Kind.VARIABLE) return;
      const owner = ancestors[ancestors.length - 1];
      const inDirective = !Array.isArray(owner) && (owner as { kind?: string }).kind === Kind.DIRECTIVE;
      if (inDirective || node.name.value === 'first' || node.name.value === 'last') names.add(node.value.name.value);
    },
  });
  return [...names];
}

/** Costs kept per document and variable combination. */
const MAX_COSTS_PER_DOCUMENT = 64;

/**
 * checkCost, remembered per document (parsed documents are cached and reused by both
 * transports) and per value of the variables the cost depends on: the same operation with
 * the same page sizes costs the same, so it is computed once.
 */
export class CostLimiter {
  private readonly documents = new WeakMap<DocumentNode, { variables: string[]; costs: Map<string, GraphQLError | null> }>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly maxCost: number,
    /** The real bound of lists without `first`/`last` (the membership cap). */
    private readonly listSize: number,
  ) {}

  /** Page sizes outside the contract's range first (BAD_USER_INPUT), then the cost. */
  check(document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined): GraphQLError | null {
    let entry = this.documents.get(document);
    if (!entry) {
      entry = { variables: costVariables(document), costs: new Map() };
      this.documents.set(document, entry);
    }
    let key = operationName ?? '';
    for (const name of entry.variables) key += `|${JSON.stringify(variables?.[name] ?? null)}`;
    const known = entry.costs.get(key);
    if (known !== undefined) return known;
    const outcome =
      pageArgumentError(this.schema, document, variables, operationName) ?? checkCost(this.schema, document, variables ?? undefined, operationName, this.maxCost, this.listSize);
    if (entry.costs.size < MAX_COSTS_PER_DOCUMENT) entry.costs.set(key, outcome);
    return outcome;
  }
}

/** Bytes of query texts (and their parsed documents) the graphql-ws document cache keeps. */
const DOCUMENT_CACHE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * A cached document's approximate size: its text (the key), the parsed document (a few
 * hundred bytes per token, at most GRAPHQL_MAX_TOKENS of them) or its errors' messages.
 */
function documentBytes(query: string, prepared: PreparedDocument): number {
  let parsed = 0;
  for (let token: Token | null | undefined = prepared.document?.loc?.startToken; token; token = token.next) parsed += 256;
  const errors = prepared.errors ? prepared.errors.reduce((sum, error) => sum + 2 * error.message.length + 200, 0) : 0;
  return 2 * query.length + parsed + errors + 200;
}

export type PreparedDocument = { document: DocumentNode; errors?: undefined } | { document?: undefined; errors: readonly GraphQLError[] };

/**
 * Parse (with the token limit) and validate (with the standard rules and our limits), cached
 * by query text: clients send the same few documents over and over, and graphql-ws would
 * otherwise parse and validate each subscription afresh.
 */
export class DocumentCache {
  private readonly cache: LRUCache<string, PreparedDocument>;
  private readonly rules: ValidationRule[];
  private readonly hideSchema: boolean;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly limits: QueryLimits,
    private readonly enabled = true,
    options: { maxEntries?: number; maxBytes?: number; introspection?: boolean } = {},
  ) {
    // Bounded by count and by bytes: a query text can be up to a frame long (comments are no tokens).
    this.cache = new LRUCache({
      max: options.maxEntries ?? 1000,
      maxSize: options.maxBytes ?? DOCUMENT_CACHE_MAX_BYTES,
      sizeCalculation: (prepared, query) => documentBytes(query, prepared),
    });
    // Production rules as Apollo applies them over HTTP: no introspection, no "Did you mean ...?".
    this.hideSchema = options.introspection === false;
    this.rules = [...specifiedRules, ...limitValidationRules(limits), ...(this.hideSchema ? [NoSchemaIntrospectionCustomRule] : [])];
  }

  prepare(query: unknown): PreparedDocument {
    if (typeof query !== 'string') return { errors: [new GraphQLError('The query must be a string.')] };
    const cached = this.cache.get(query);
    if (cached) return cached;
    let prepared: PreparedDocument;
    try {
      const document = parse(query, { maxTokens: this.limits.maxTokens });
      const errors = validate(this.schema, document, this.rules);
      if (this.hideSchema) for (const error of errors) error.message = withoutSuggestions(error.message);
      prepared = errors.length > 0 ? { errors } : { document };
    } catch (error) {
      prepared = { errors: [error instanceof GraphQLError ? error : new GraphQLError('Could not parse the query.')] };
    }
    if (this.enabled) this.cache.set(query, prepared);
    return prepared;
  }
}
