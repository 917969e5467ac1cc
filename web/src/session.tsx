import { createContext, useContext } from 'react';
import type { Session } from './apollo';

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/** The first GraphQL error's message and field (BAD_USER_INPUT), or the network error's. */
export function errorText(error: unknown): string {
  if (!error) return '';
  const graphQLErrors = (error as { errors?: Array<{ message: string }> }).errors;
  if (graphQLErrors?.[0]) return graphQLErrors[0].message;
  return error instanceof Error ? error.message : String(error);
}
