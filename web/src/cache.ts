// Writes into the normalized cache that live events and sends need. Message, Channel and User
// objects update themselves by id; what the cache cannot know is that a new message belongs at
// the end of its channel's `messages` list, so that is done here.
import type { ApolloCache, Reference } from '@apollo/client';
import { type MessageFieldsFragment } from './gql/graphql';
import { MessageFields } from './operations';

interface StoredEdge {
  __typename: 'MessageEdge';
  cursor: string;
  node: Reference;
}

// region append
/** A stored message list: a channel's history, or a thread's replies. */
export type MessageList = { field: 'messages'; channelId: string } | { field: 'threadReplies'; messageId: string };

/**
 * Appends a message to its list once: a message already there (sent optimistically, echoed
 * by the subscription, or replayed after a reconnect) is not added again, only given its
 * cursor when it had none. Returns whether it was new.
 */
export function appendMessage(cache: ApolloCache, list: MessageList, message: MessageFieldsFragment, cursor: string | null): boolean {
  const key = JSON.stringify(list.field === 'messages' ? list.channelId : list.messageId);
  const ref = cache.writeFragment({ fragment: MessageFields, fragmentName: 'MessageFields', data: message });
  if (!ref) return false;
  let added = false;
  cache.modify<Record<string, { edges: StoredEdge[] }>>({
    id: 'ROOT_QUERY',
    fields: {
      [list.field](existing, { storeFieldName }) {
        // One stored list per key argument (relayStylePagination(['channelId']) for messages).
        if (!storeFieldName.includes(key) || !existing || !('edges' in existing)) return existing;
        const edges = existing.edges as StoredEdge[];
        const index = edges.findIndex((edge) => edge.node.__ref === ref.__ref);
        if (index >= 0) {
          if (!cursor || edges[index]!.cursor) return existing;
          return { ...existing, edges: edges.map((edge, i) => (i === index ? { ...edge, cursor } : edge)) };
        }
        added = true;
        return { ...existing, edges: [...edges, { __typename: 'MessageEdge', cursor: cursor ?? '', node: ref }] };
      },
    },
  });
  return added;
}
// endregion append
