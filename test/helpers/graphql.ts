export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, any> }>;
  headers: Headers;
}

/** A GraphQL-over-HTTP POST, the way clients send it. */
export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await response.text();
  let body: { data?: T; errors?: GraphQLResponse['errors'] } = {};
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`Non-JSON response (${response.status}): ${text.slice(0, 200)}`);
  }
  return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
}

/** The data of a successful response; fails the test with the errors otherwise. */
export async function gqlOk<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<T> {
  const response = await gql<T>(url, query, variables, options);
  if (response.errors?.length || !response.data) {
    throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
  }
  return response.data;
}

/** The first error's code (or undefined when there is none). */
export function errorCode(response: GraphQLResponse): string | undefined {
  return response.errors?.[0]?.extensions?.code;
}
