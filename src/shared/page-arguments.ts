import {
  type DocumentNode,
  getNamedType,
  getOperationAST,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  TypeInfo,
  valueFromAST,
  valueFromASTUntyped,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { ErrorCode } from './errors';
import { MAX_PAGE_SIZE } from './relay';

const PAGE_ARGUMENTS = new Set(['first', 'last']);

/**
 * BAD_USER_INPUT naming the argument, raised before execution: a request error (HTTP 400, as
 * the cost check's), formatted by shared/errors.ts like graphql-js's own coercion errors.
 */
export class PageArgumentError extends GraphQLError {
  constructor(field: string, message: string) {
    super(message, { extensions: { code: ErrorCode.BadUserInput, field, http: { status: 400 } } });
  }
}

/**
 * The contract's range for `first`/`last` (1..MAX_PAGE_SIZE) on every connection field of the
 * operation, as BAD_USER_INPUT naming the argument. It runs before the cost check, so an
 * out-of-range page size is reported as what it is, not as a too expensive query. Values
 * are read from literals, variables and variable defaults; anything not an integer is left
 * to graphql-js's own coercion errors.
 */
export function pageArgumentError(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  operationName: string | null | undefined,
): PageArgumentError | null {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return null;
  const values = variableValues(operation, variables);
  // The selected operation and the fragments it may spread.
  const definitions = document.definitions.filter((definition) => definition === operation || definition.kind === Kind.FRAGMENT_DEFINITION);
  const typeInfo = new TypeInfo(schema);
  let found: PageArgumentError | null = null;
  visit(
    { kind: Kind.DOCUMENT, definitions },
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        if (found || !PAGE_ARGUMENTS.has(node.name.value)) return;
        const argument = typeInfo.getArgument();
        if (!argument || getNamedType(argument.type)?.name !== 'Int') return;
        const value = node.value.kind === Kind.VARIABLE ? values.get(node.value.name.value) : valueFromAST(node.value, argument.type);
        if (typeof value !== 'number' || !Number.isInteger(value)) return;
        if (value < 1 || value > MAX_PAGE_SIZE) {
          const field = typeInfo.getFieldDef()?.name ?? 'field';
          found = new PageArgumentError(node.name.value, `${node.name.value} on ${field} must be between 1 and ${MAX_PAGE_SIZE}, got ${value}.`);
        }
      },
    }),
  );
  return found;
}

/** The operation's variables as sent, falling back to their declared defaults. */
function variableValues(operation: OperationDefinitionNode, variables: Record<string, unknown> | null | undefined): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (variables && Object.hasOwn(variables, name)) values.set(name, variables[name]);
    else if (definition.defaultValue) values.set(name, valueFromASTUntyped(definition.defaultValue));
  }
  return values;
}
