// One Apollo Client per signed-in session: queries and mutations over HTTP POST, subscriptions
// over graphql-ws, both on the /graphql of the origin that served the page, both carrying the
// session's token. Signing in or out builds a new client, so no cache outlives its user.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition, relayStylePagination } from '@apollo/client/utilities';
import { Kind, OperationTypeNode } from 'graphql';
import { type Client as WsClient, createClient } from 'graphql-ws';

/** The API's endpoint, same origin as this page (so it works behind any host name or proxy). */
export function endpoints(): { http: string; ws: string } {
  const http = new URL('/graphql', window.location.href);
  const ws = new URL(http);
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http: http.href, ws: ws.href };
}

// region cache
export function createCache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      // A message's thread summary has no id of its own: merge partial answers (markThreadRead
      // returns only unreadCount) into it instead of replacing it.
      Thread: { merge: true },
      Query: {
        fields: {
          // Cursor connections: one list per channel (per search), pages merged by their cursors;
          // `before` pages (scrolling up) are prepended, `after` pages appended.
          messages: relayStylePagination(['channelId']),
          threadReplies: relayStylePagination(['messageId']),
          channels: relayStylePagination(['search']),
          users: relayStylePagination(['search']),
        },
      },
    },
  });
}
// endregion cache

export interface Session {
  client: ApolloClient;
  /** The socket of this session's subscriptions (for reconnect handling, see live.ts). */
  ws: WsClient;
  dispose(): void;
}

// region links
export function createSession(token: string | null): Session {
  const { http, ws: wsUrl } = endpoints();
  const authorization = token ? `Bearer ${token}` : undefined;

  const httpLink = new HttpLink({ uri: http, headers: authorization ? { authorization } : {} });

  const ws = createClient({
    url: wsUrl,
    // The token travels in connection_init; the server checks it per operation too.
    connectionParams: authorization ? { authorization } : {},
    // One socket while any subscription runs; closed a moment after the last one ends.
    lazy: true,
    // No silent retries: a dropped socket ends each subscription with an error, and
    // live.ts resubscribes with the cursor of the last event it saw (`after`), so the
    // server replays exactly what was missed.
    retryAttempts: 0,
    // Detects a dead connection without waiting for TCP.
    keepAlive: 10_000,
  });

  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === Kind.OPERATION_DEFINITION && definition.operation === OperationTypeNode.SUBSCRIPTION;
    },
    new GraphQLWsLink(ws),
    httpLink,
  );

  const client = new ApolloClient({ link, cache: createCache() });
  return {
    client,
    ws,
    dispose() {
      client.stop();
      void ws.dispose();
    },
  };
}
// endregion links
