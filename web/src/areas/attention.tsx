// Notifications (the attention area): a count in the sidebar kept live by the `notifications`
// subscription, and the list, which marks everything read.
import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { useEffect } from 'react';
import { graphql } from '../gql';
import { subscribeResumable } from '../live';
import { href } from '../route';
import { useSession } from '../session';

export const NotificationCountQuery = graphql(`
  query NotificationCount {
    unreadNotificationCount
  }
`);

const NotificationsQuery = graphql(`
  query Notifications($first: Int) {
    notifications(first: $first) {
      edges {
        node {
          id
          kind
          createdAt
          read
          message {
            id
            body
            author {
              id
              displayName
            }
            channel {
              id
              name
              kind
            }
          }
        }
      }
    }
  }
`);

const NotificationsSubscription = graphql(`
  subscription NewNotifications {
    notifications {
      id
      kind
    }
  }
`);

const MarkNotificationsReadMutation = graphql(`
  mutation MarkNotificationsRead {
    markNotificationsRead
  }
`);

// region notifications
/** Keeps the unread count current: one more per new notification, recounted after a drop. */
export function useNotificationCount(): number {
  const client = useApolloClient();
  const { ws } = useSession();
  const count = useQuery(NotificationCountQuery);
  useEffect(
    () =>
      subscribeResumable(client, ws, {
        query: NotificationsSubscription,
        variables: () => ({}),
        onData: () => {
          client.cache.updateQuery({ query: NotificationCountQuery }, (data) => (data ? { unreadNotificationCount: data.unreadNotificationCount + 1 } : data));
          // The list, when it is on screen.
          void client.refetchQueries({ include: [NotificationsQuery] });
        },
        onResubscribe: () => void client.refetchQueries({ include: [NotificationCountQuery, NotificationsQuery] }),
      }),
    [client, ws],
  );
  return count.data?.unreadNotificationCount ?? 0;
}
// endregion notifications

const KIND_LABEL = { MENTION: 'mentioned you', THREAD_REPLY: 'replied in a thread you follow', MESSAGE: 'wrote' } as const;

export function NotificationsPage() {
  const list = useQuery(NotificationsQuery, { variables: { first: 50 }, fetchPolicy: 'network-only' });
  const [markAll] = useMutation(MarkNotificationsReadMutation, { refetchQueries: [NotificationCountQuery, NotificationsQuery] });
  const edges = list.data?.notifications.edges ?? [];
  return (
    <section className="page" data-testid="notifications">
      <h1>Notifications</h1>
      <button type="button" onClick={() => void markAll().catch(() => undefined)}>
        Mark all read
      </button>
      <ul className="cards">
        {edges.map(({ node }) => (
          <li key={node.id} className={node.read ? '' : 'unread'} data-testid="notification">
            <div>
              <strong>{node.message.author.displayName}</strong> {KIND_LABEL[node.kind]} in{' '}
              <a href={href({ page: 'channel', channelId: node.message.channel.id })}>{node.message.channel.kind === 'DIRECT' ? 'a direct message' : `# ${node.message.channel.name}`}</a>
              <p className="muted">{node.message.body}</p>
            </div>
            <time className="muted">{new Date(node.createdAt).toLocaleString()}</time>
          </li>
        ))}
        {list.data && edges.length === 0 && <li className="muted">Nothing yet.</li>}
      </ul>
    </section>
  );
}
