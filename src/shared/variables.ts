import {
  coerceInputValue,
  type DocumentNode,
  getOperationAST,
  GraphQLError,
  type GraphQLSchema,
  isInputType,
  isNonNullType,
  type OperationDefinitionNode,
  typeFromAST,
  type VariableDefinitionNode,
} from 'graphql';
import { withoutSuggestions } from './errors';

/** Coercion errors reported per request: the first few tell the client what to fix, more only amplify. */
export const MAX_VARIABLE_ERRORS = 3;

/** Longest reason (graphql-js's or a scalar's message) kept in an error; scalars embed the value they refused. */
const MAX_REASON_CHARS = 200;

/** Longest input field name kept in a path or in `extensions.field` (client-chosen keys can be any length). */
const MAX_NAME_CHARS = 64;

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** Stops coercion at the error limit (graphql-js would otherwise walk the whole input). */
class Enough extends Error {}

/**
 * The operation a request runs, or a BAD_REQUEST error when `operationName` names none (or
 * is missing while the document has several): graphql-js would say so only at execution,
 * where Apollo Server reports it as an internal error.
 */
export function resolveOperation(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | GraphQLError {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (operation) return operation;
  const message = operationName ? `Unknown operation named "${cut(operationName, MAX_NAME_CHARS)}".` : 'Must provide operation name if query contains multiple operations.';
  return new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

/**
 * Checks a request's variables against the operation's definitions before anything runs, as
 * graphql-js's coercion would, but stops after MAX_VARIABLE_ERRORS errors and never puts the
 * value in a message (graphql-js repeats the whole variable in each of up to 50 errors, and
 * its 51st error is not a coercion error). Every error is BAD_USER_INPUT with `field` (the
 * innermost input field, else the variable); an empty list when the variables are fine.
 * Without `suggestions` (introspection off), no "Did you mean ...?", as Apollo does for validation.
 */
export function checkVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | null | undefined,
  options: { suggestions: boolean },
): GraphQLError[] {
  const errors: GraphQLError[] = [];
  const inputs = variables ?? {};
  const report = (definition: VariableDefinitionNode, message: string, field: string) => {
    errors.push(new GraphQLError(message, { nodes: definition, extensions: { code: 'BAD_USER_INPUT', field: cut(field, MAX_NAME_CHARS), http: { status: 400 } } }));
    if (errors.length >= MAX_VARIABLE_ERRORS) throw new Enough();
  };
  try {
    for (const definition of operation.variableDefinitions ?? []) {
      const name = definition.variable.name.value;
      const type = typeFromAST(schema, definition.type);
      // Not an input type: validation has refused the document already.
      if (!type || !isInputType(type)) continue;
      if (!Object.prototype.hasOwnProperty.call(inputs, name)) {
        if (!definition.defaultValue && isNonNullType(type)) report(definition, `Variable "$${name}" of required type "${String(type)}" was not provided.`, name);
        continue;
      }
      const value = inputs[name];
      if (value === null && isNonNullType(type)) {
        report(definition, `Variable "$${name}" of non-null type "${String(type)}" must not be null.`, name);
        continue;
      }
      coerceInputValue(value, type, (path, _invalid, error) => {
        const at = path.length > 0 ? ` at "${name}${path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${cut(key, MAX_NAME_CHARS)}`)).join('')}"` : '';
        // The innermost input field: the one the reason names (missing or unknown), else the last in the path.
        const named = /^Field "([^"]*)" (?:of required type|is not defined by type)/.exec(error.message)?.[1];
        // (An empty key names nothing a client can point at: the variable stands in for it.)
        const field = named || [...path].reverse().find((key): key is string => typeof key === 'string' && key !== '') || name;
        const reason = options.suggestions ? error.message : withoutSuggestions(error.message);
        report(definition, `Variable "$${name}" got invalid value${at}; ${cut(reason, MAX_REASON_CHARS)}`, field);
      });
    }
  } catch (error) {
    if (!(error instanceof Enough)) throw error;
  }
  return errors;
}
