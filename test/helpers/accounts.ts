import type { App } from '../../src/app';
import type { TestWsClient } from './ws';
import { uniqueName } from './factories';
import { gql, gqlOk, type GraphQLResponse } from './graphql';

export const USER_FIELDS = 'id username displayName bio email createdAt';

export const SIGNUP = `mutation Signup($input: SignupInput!) { signup(input: $input) { token user { ${USER_FIELDS} } } }`;
export const LOGIN = `mutation Login($input: LoginInput!) { login(input: $input) { token user { ${USER_FIELDS} } } }`;
export const LOGOUT = 'mutation { logout }';
export const CHANGE_PASSWORD = 'mutation Change($input: ChangePasswordInput!) { changePassword(input: $input) }';
export const UPDATE_PROFILE = `mutation Update($input: UpdateProfileInput!) { updateProfile(input: $input) { ${USER_FIELDS} } }`;
export const ME = `{ me { ${USER_FIELDS} } }`;
export const MY_ACTIVITY = `query Activity($first: Int, $after: String) {
  myActivity(first: $first, after: $after) {
    edges { cursor node { id action at channel { id kind } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

export interface SignupFields {
  email: string;
  username: string;
  password: string;
  displayName?: string | null;
}

/** Valid signup input with unique names; override any field. */
export function signupInput(overrides: Partial<SignupFields> = {}): SignupFields {
  const username = overrides.username ?? uniqueName('acct');
  // The email does not derive from the username, so an invalid username leaves a valid email.
  return { email: `${uniqueName('mail').toLowerCase()}@example.test`, username, password: 'a long enough password', ...overrides };
}

export interface SignedUp {
  token: string;
  user: { id: string; username: string; displayName: string; bio: string | null; email: string | null; createdAt: string };
  password: string;
  email: string;
}

/** Signs a user up through the API. */
export async function signup(url: string, overrides: Partial<SignupFields> = {}, headers: Record<string, string> = {}): Promise<SignedUp> {
  const input = signupInput(overrides);
  const data = await gqlOk<{ signup: Omit<SignedUp, 'password' | 'email'> }>(url, SIGNUP, { input }, { headers });
  return { ...data.signup, password: input.password, email: input.email };
}

/** A login attempt, optionally from a given client address (needs TRUST_PROXY=true on the app). */
export function login(url: string, loginName: string, password: string, ip?: string): Promise<GraphQLResponse> {
  const headers: Record<string, string> = { 'user-agent': 'accounts-test' };
  if (ip) headers['x-forwarded-for'] = ip;
  return gql(url, LOGIN, { input: { login: loginName, password } }, { headers });
}

/** Waits until `predicate` holds, polling (for state that has no event to wait on). */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Raw rows of a user's activity log (ip and user agent are not in the API). */
export async function activityRows(
  app: App,
  userId: string,
  options: { settle?: boolean } = {},
): Promise<Array<{ action: string; ip: string | null; user_agent: string | null; channel_id: string | null }>> {
  // LOGIN_FAILED entries are written after the answer: wait for those in flight (unless the test looks at that very gap).
  if (options.settle !== false) await app.services.accounts.settled();
  return app.services.orm.em
    .getConnection()
    .execute('select action, ip, user_agent, channel_id from activity_log where user_id = ? order by id', [userId]);
}

/** The close code of a socket, failing after `timeoutMs` instead of hanging the test. */
export function closeCode(client: TestWsClient, timeoutMs = 5000): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([client.closed, timeout]).finally(() => clearTimeout(timer));
}
