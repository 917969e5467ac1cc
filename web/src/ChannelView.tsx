import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { type FormEvent, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Reactions } from './areas/reactions';
import { ThreadLink, ThreadPanel } from './areas/threads';
import { appendMessage } from './cache';
import type { MessageFieldsFragment, VoteValue } from './gql/graphql';
import { newClientMessageId } from './ids';
import { subscribeResumable } from './live';
import { ChannelEventsSubscription, ChannelHeaderQuery, ChannelMessagesQuery, MarkReadMutation, MeQuery, SendMessageMutation, SetTypingMutation, VoteMutation } from './operations';
import { href } from './route';
import { errorText, useSession } from './session';

/** Messages per page of history (scrolling up loads the previous page). */
export const PAGE_SIZE = 15;
/** How long a "typing" indicator stays without a new UserTyping event. */
const TYPING_SHOWN_MS = 4000;
/** The server forwards one UserTyping per user and channel every 2 s; sending more is useless. */
const TYPING_SEND_EVERY_MS = 2000;

interface FailedSend {
  clientMessageId: string;
  body: string;
  error: string;
}

export function ChannelView({ channelId }: { channelId: string }) {
  const client = useApolloClient();
  const { ws } = useSession();
  const header = useQuery(ChannelHeaderQuery, { variables: { id: channelId }, pollInterval: 15_000 });
  const me = useQuery(MeQuery).data?.me ?? null;
  // region history
  const history = useQuery(ChannelMessagesQuery, {
    variables: { channelId, last: PAGE_SIZE },
    // Fresh from the server on every visit (events were not followed while away), then
    // from the cache, which the live events below keep current.
    fetchPolicy: 'network-only',
    nextFetchPolicy: 'cache-first',
  });
  const [loadingOlder, setLoadingOlder] = useState(false);
  const loadOlder = useCallback(async () => {
    const pageInfo = history.data?.messages.pageInfo;
    if (!pageInfo?.hasPreviousPage || loadingOlder) return;
    setLoadingOlder(true);
    try {
      // relayStylePagination prepends a `before` page to the stored list.
      await history.fetchMore({ variables: { before: pageInfo.startCursor, last: PAGE_SIZE } });
    } finally {
      setLoadingOlder(false);
    }
  }, [history, loadingOlder]);
  // endregion history

  const [typing, setTyping] = useState<Record<string, { name: string; until: number }>>({});
  const [ended, setEnded] = useState<string | null>(null);
  const [openThread, setOpenThread] = useState<string | null>(null);
  const [markRead] = useMutation(MarkReadMutation);
  const loaded = history.data !== undefined;

  // region live
  // The resume cursor: the newest message this view has, from the history page first, then
  // from each MessageAdded. A resubscription after a drop passes it as `after`.
  const resumeCursor = useRef<string | null>(null);
  useEffect(() => {
    if (!loaded) return;
    // relayStylePagination reports an empty list's cursors as "": no cursor.
    resumeCursor.current ??= history.data?.messages.pageInfo.endCursor || null;
    return subscribeResumable(client, ws, {
      query: ChannelEventsSubscription,
      variables: () => ({ channelId, after: resumeCursor.current }),
      onData: ({ channelEvents: event }) => {
        switch (event.__typename) {
          case 'MessageAdded':
            resumeCursor.current = event.cursor;
            // The message itself is already normalized into the cache; place it in its list:
            // a reply in its thread's (the root's summary comes as MessageUpdated), others in
            // the channel's.
            if (event.message.threadRootId) appendMessage(client.cache, { field: 'threadReplies', messageId: event.message.threadRootId }, event.message, event.cursor);
            else appendMessage(client.cache, { field: 'messages', channelId }, event.message, event.cursor);
            break;
          case 'UserTyping':
            if (event.user.id !== me?.id) setTyping((current) => ({ ...current, [event.user.id]: { name: event.user.displayName, until: Date.now() + TYPING_SHOWN_MS } }));
            break;
          case 'MemberJoined':
          case 'MemberLeft':
            void header.refetch();
            break;
          // MessageUpdated, MessageDeleted, ChannelUpdated: normalized by id, nothing to do.
        }
      },
      onEnd: (reason) => setEnded(reason),
    });
    // Subscribe once per channel view, when the first page is there.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [loaded, channelId, client, ws]);
  // endregion live

  // Typing indicators fade out.
  useEffect(() => {
    const entries = Object.entries(typing);
    if (entries.length === 0) return;
    const next = Math.min(...entries.map(([, entry]) => entry.until));
    const timer = setTimeout(() => setTyping((current) => Object.fromEntries(Object.entries(current).filter(([, entry]) => entry.until > Date.now()))), Math.max(0, next - Date.now()));
    return () => clearTimeout(timer);
  }, [typing]);

  const edges = history.data?.messages.edges ?? [];
  const newestId = edges.at(-1)?.node.id;
  // Reading the channel moves the read marker (and clears its badge) as messages arrive.
  useEffect(() => {
    if (newestId && !newestId.startsWith('pending:')) void markRead({ variables: { channelId } }).catch(() => undefined);
  }, [newestId, channelId, markRead]);

  // region scroll
  const list = useRef<HTMLOListElement>(null);
  const stickToBottom = useRef(true);
  const previousFirst = useRef<{ id: string | undefined; height: number }>({ id: undefined, height: 0 });
  useLayoutEffect(() => {
    const element = list.current;
    if (!element) return;
    const firstId = edges[0]?.node.id;
    if (previousFirst.current.id && firstId !== previousFirst.current.id) {
      // Older messages were prepended: keep the visible ones where they were.
      element.scrollTop += element.scrollHeight - previousFirst.current.height;
    } else if (stickToBottom.current) {
      element.scrollTop = element.scrollHeight;
    }
    previousFirst.current = { id: firstId, height: element.scrollHeight };
  }, [edges]);
  const onScroll = () => {
    const element = list.current;
    if (!element) return;
    stickToBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
    if (element.scrollTop < 60) void loadOlder();
  };
  // endregion scroll

  const channel = header.data?.channel;
  const typingNames = Object.values(typing).map((entry) => entry.name);
  return (
    <div className="channel-with-thread">
      <section className="channel" data-testid="channel-view" data-channel-id={channelId}>
        <header>
          <h1 data-testid="channel-title">
            {channel?.kind === 'DIRECT' ? (
              <>
                <span className={channel.peer?.online ? 'presence online' : 'presence'} data-testid="peer-presence" data-online={String(Boolean(channel.peer?.online))} />
                <a href={href({ page: 'profile', username: channel.peer?.username ?? null })}>{channel.peer?.displayName}</a>
              </>
            ) : (
              channel && `# ${channel.name}`
            )}
          </h1>
          {channel && channel.kind !== 'DIRECT' && <span className="muted">{channel.memberCount} members</span>}
          {channel?.description && <p className="muted">{channel.description}</p>}
        </header>
        {ended && <p className="error">This channel's live updates ended ({ended}).</p>}
        <ol className="messages" ref={list} onScroll={onScroll} data-testid="messages">
          {history.data?.messages.pageInfo.hasPreviousPage ? (
            <li className="muted older">{loadingOlder ? 'Loading older messages…' : 'Scroll up for older messages'}</li>
          ) : (
            loaded && <li className="muted older" data-testid="history-start">This is the beginning of the channel.</li>
          )}
          {edges.map(({ node }) => (
            <MessageItem key={node.id} message={node} mine={node.author.id === me?.id} onOpenThread={() => setOpenThread(node.id)} />
          ))}
        </ol>
        <p className="typing" data-testid="typing">
          {typingNames.length > 0 && `${typingNames.join(', ')} ${typingNames.length === 1 ? 'is' : 'are'} typing…`}
        </p>
        {me && <Composer channelId={channelId} me={me} />}
      </section>
      {openThread && (
        <ThreadPanel
          key={openThread}
          rootId={openThread}
          onClose={() => setOpenThread(null)}
          renderMessage={(message) => <MessageItem key={message.id} message={message} mine={message.author.id === me?.id} />}
          composer={me && <Composer channelId={channelId} threadId={openThread} me={me} />}
        />
      )}
    </div>
  );
}

function MessageItem({ message, mine, onOpenThread }: { message: MessageFieldsFragment; mine: boolean; onOpenThread?: () => void }) {
  const pending = message.id.startsWith('pending:');
  return (
    <li className={`message${pending ? ' pending' : ''}${mine ? ' mine' : ''}${message.mentionsMe ? ' mention' : ''}`} data-testid="message" data-message-id={message.id}>
      <div className="meta">
        <a href={href({ page: 'profile', username: message.author.username })} className="author">
          {message.author.displayName}
        </a>
        <time dateTime={message.createdAt}>{new Date(message.createdAt).toLocaleTimeString()}</time>
        {message.editedAt && <span className="muted">(edited)</span>}
      </div>
      <div className="body" data-testid="message-body">
        {message.deleted ? <em className="muted">deleted</em> : message.body}
      </div>
      {!pending && !message.deleted && <Votes message={message} />}
      {!pending && !message.deleted && (
        <div className="actions">
          <Reactions message={message} />
          {onOpenThread && <ThreadLink message={message} onOpen={onOpenThread} />}
        </div>
      )}
    </li>
  );
}

// region votes
function Votes({ message }: { message: MessageFieldsFragment }) {
  const [vote] = useMutation(VoteMutation);
  const cast = (value: VoteValue) => {
    const next: VoteValue = message.myVote === value ? 'NONE' : value;
    const up = message.upvotes - (message.myVote === 'UP' ? 1 : 0) + (next === 'UP' ? 1 : 0);
    const down = message.downvotes - (message.myVote === 'DOWN' ? 1 : 0) + (next === 'DOWN' ? 1 : 0);
    void vote({
      variables: { messageId: message.id, value: next },
      optimisticResponse: { vote: { __typename: 'Message', id: message.id, myVote: next, upvotes: up, downvotes: down, score: up - down } },
    }).catch(() => undefined);
  };
  return (
    <div className="votes">
      <button type="button" className={message.myVote === 'UP' ? 'on' : ''} aria-label="Upvote" onClick={() => cast('UP')}>
        ▲
      </button>
      <span data-testid="score">{message.score}</span>
      <button type="button" className={message.myVote === 'DOWN' ? 'on' : ''} aria-label="Downvote" onClick={() => cast('DOWN')}>
        ▼
      </button>
    </div>
  );
}
// endregion votes

function Composer({ channelId, threadId = null, me }: { channelId: string; threadId?: string | null; me: { id: string; username: string; displayName: string } }) {
  const [body, setBody] = useState('');
  const [failed, setFailed] = useState<FailedSend[]>([]);
  const [sendMessage] = useMutation(SendMessageMutation);
  const [setTypingMutation] = useMutation(SetTypingMutation);
  const lastTypingSent = useRef(0);

  // region send
  /** Sends (or resends) one message; the same clientMessageId on a retry never makes a duplicate. */
  const send = async (text: string, clientMessageId: string) => {
    setFailed((current) => current.filter((entry) => entry.clientMessageId !== clientMessageId));
    try {
      await sendMessage({
        variables: { input: { channelId, body: text, clientMessageId, threadId } },
        // Shown at once, replaced by the server's message when it answers.
        optimisticResponse: {
          sendMessage: {
            __typename: 'Message',
            id: `pending:${clientMessageId}`,
            body: text,
            createdAt: new Date().toISOString(),
            editedAt: null,
            deleted: false,
            score: 0,
            upvotes: 0,
            downvotes: 0,
            myVote: 'NONE',
            mentionsMe: false,
            reactions: [],
            threadRootId: threadId,
            thread: null,
            author: { __typename: 'User', id: me.id, username: me.username, displayName: me.displayName },
          },
        },
        // Runs for the optimistic message and again for the real one; the subscription's echo
        // of the same message finds it already there.
        update: (cache, { data }) => {
          if (data) appendMessage(cache, threadId ? { field: 'threadReplies', messageId: threadId } : { field: 'messages', channelId }, data.sendMessage, null);
        },
      });
    } catch (error) {
      setFailed((current) => [...current, { clientMessageId, body: text, error: errorText(error) }]);
    }
  };
  // endregion send

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const text = body.trim();
    if (!text) return;
    setBody('');
    lastTypingSent.current = 0;
    void send(text, newClientMessageId());
  };

  const onType = (value: string) => {
    setBody(value);
    if (value && Date.now() - lastTypingSent.current > TYPING_SEND_EVERY_MS) {
      lastTypingSent.current = Date.now();
      void setTypingMutation({ variables: { channelId } }).catch(() => undefined);
    }
  };
  return (
    <div className="composer">
      {failed.map((entry) => (
        <div className="failed" key={entry.clientMessageId} data-testid="failed-send">
          <span>
            Not sent: “{entry.body}” ({entry.error})
          </span>
          <button type="button" onClick={() => void send(entry.body, entry.clientMessageId)}>
            Retry
          </button>
        </div>
      ))}
      <form onSubmit={submit}>
        <input
          value={body}
          onChange={(event) => onType(event.target.value)}
          placeholder={threadId ? 'Reply' : 'Message'}
          aria-label={threadId ? 'Reply' : 'Message'}
          data-testid={threadId ? 'thread-composer' : 'composer'}
          maxLength={4000}
        />
        <button type="submit">Send</button>
      </form>
    </div>
  );
}
