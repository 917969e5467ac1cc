// Threads (the conversations area): a message's reply count, and a side panel with the root,
// its replies (paged like channel history) and a composer that replies in the thread.
// Replies arrive on the channel's own `channelEvents` (threadRootId set); ChannelView puts
// them in the thread's list instead of the channel's.
import { useFragment, useMutation, useQuery } from '@apollo/client/react';
import { useEffect } from 'react';
import { graphql } from '../gql';
import { MessageFields } from '../operations';

export const ThreadSummaryFields = graphql(`
  fragment ThreadSummaryFields on Message {
    threadRootId
    thread {
      replyCount
      lastReplyAt
      unreadCount
      participants {
        id
        displayName
      }
    }
  }
`);

// region thread-replies
export const ThreadRepliesQuery = graphql(`
  query ThreadReplies($messageId: ID!, $last: Int, $before: String) {
    threadReplies(messageId: $messageId, last: $last, before: $before) {
      edges {
        cursor
        node {
          ...MessageFields
        }
      }
      pageInfo {
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
`);
// endregion thread-replies

const MarkThreadReadMutation = graphql(`
  mutation MarkThreadRead($messageId: ID!) {
    markThreadRead(messageId: $messageId) {
      id
      thread {
        unreadCount
      }
    }
  }
`);

/** "3 replies" under a root message; opens the panel. */
export function ThreadLink({ message, onOpen }: { message: { thread: { replyCount: number; unreadCount: number } | null }; onOpen: () => void }) {
  const replies = message.thread?.replyCount ?? 0;
  return (
    <button type="button" className="link thread-link" onClick={onOpen} data-testid="thread-link" data-replies={replies}>
      {replies === 0 ? 'Reply in thread' : `${replies} ${replies === 1 ? 'reply' : 'replies'}`}
      {message.thread && message.thread.unreadCount > 0 && <span className="badge">{message.thread.unreadCount}</span>}
    </button>
  );
}

type Renderers = {
  renderMessage: (message: NonNullable<ReturnType<typeof useRoot>>) => React.ReactNode;
  composer: React.ReactNode;
};

function useRoot(rootId: string) {
  const root = useFragment({ fragment: MessageFields, fragmentName: 'MessageFields', from: { __typename: 'Message', id: rootId } });
  return root.complete ? root.data : null;
}

export function ThreadPanel({ rootId, onClose, renderMessage, composer }: { rootId: string; onClose: () => void } & Renderers) {
  const root = useRoot(rootId);
  const replies = useQuery(ThreadRepliesQuery, { variables: { messageId: rootId, last: 50 }, fetchPolicy: 'network-only', nextFetchPolicy: 'cache-first' });
  const [markThreadRead] = useMutation(MarkThreadReadMutation);
  const edges = replies.data?.threadReplies.edges ?? [];
  const newestId = edges.at(-1)?.node.id;
  useEffect(() => {
    if (newestId && !newestId.startsWith('pending:')) void markThreadRead({ variables: { messageId: rootId } }).catch(() => undefined);
  }, [newestId, rootId, markThreadRead]);

  return (
    <aside className="thread-panel" data-testid="thread-panel">
      <header>
        <h2>Thread</h2>
        <button type="button" className="link" onClick={onClose} aria-label="Close thread">
          ✕
        </button>
      </header>
      <ol className="messages">
        {root && renderMessage(root)}
        <li className="muted older">{edges.length === 0 ? 'No replies yet.' : `${edges.length} ${edges.length === 1 ? 'reply' : 'replies'}`}</li>
        {edges.map(({ node }) => renderMessage(node))}
      </ol>
      {composer}
    </aside>
  );
}
