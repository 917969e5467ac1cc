// Subscriptions that survive dropped connections: when the socket closes (network loss,
// server restart, the browser going offline), resubscribe with fresh variables, typically
// `after` = the cursor of the last event received, so the server replays what was missed.
import type { ApolloClient, OperationVariables, TypedDocumentNode } from '@apollo/client';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import type { Client as WsClient } from 'graphql-ws';

export interface ResumableOptions<TData, TVariables extends OperationVariables> {
  query: TypedDocumentNode<TData, TVariables>;
  /** Called at every (re)subscription: the resume cursor is read at that moment. */
  variables: () => TVariables;
  onData: (data: TData) => void;
  /** After a drop, when the new subscription is sent (e.g. to refetch counts). */
  onResubscribe?: () => void;
  /** The server refused or ended the stream for good (left channel, deleted channel...). */
  onEnd?: (reason: string) => void;
}

const MAX_DELAY_MS = 3000;

// region resume
/** Starts the subscription; the returned function stops it for good. */
export function subscribeResumable<TData, TVariables extends OperationVariables>(
  client: ApolloClient,
  ws: WsClient,
  options: ResumableOptions<TData, TVariables>,
): () => void {
  let stopped = false;
  let attempt = 0;
  let current: { unsubscribe(): void } | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const start = () => {
    if (stopped) return;
    // Offline: wait for the browser to say it is back (see the 'online' listener below).
    if (!navigator.onLine) return;
    current = client.subscribe({ query: options.query, variables: options.variables() }).subscribe({
      next: (result) => {
        if (result.error) return end(result.error);
        attempt = 0;
        if (result.data) options.onData(result.data as TData);
      },
      error: (error: unknown) => end(error),
      complete: () => end(null),
    });
  };

  const end = (error: unknown) => {
    current?.unsubscribe();
    current = null;
    if (stopped) return;
    // GraphQL errors (FORBIDDEN, NOT_FOUND...) will not go away by retrying; a dropped
    // socket will. A stream the server completed (left channel) ends here too.
    if (CombinedGraphQLErrors.is(error) || error === null) {
      stopped = true;
      options.onEnd?.(error ? error.message : 'completed');
      return;
    }
    attempt += 1;
    const delay = Math.min(MAX_DELAY_MS, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
    timer = setTimeout(() => {
      options.onResubscribe?.();
      start();
    }, delay);
  };

  // The browser knows before TCP does: drop the socket when it goes offline, come back when
  // it is online again (each subscription then resubscribes with its cursor).
  const offline = () => ws.terminate();
  const online = () => {
    if (current || stopped) return;
    clearTimeout(timer);
    options.onResubscribe?.();
    start();
  };
  window.addEventListener('offline', offline);
  window.addEventListener('online', online);
  start();
  return () => {
    stopped = true;
    clearTimeout(timer);
    window.removeEventListener('offline', offline);
    window.removeEventListener('online', online);
    current?.unsubscribe();
    current = null;
  };
}
// endregion resume
