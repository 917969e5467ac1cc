import { ApolloProvider, useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { createSession } from './apollo';
import { NotificationsPage, useNotificationCount } from './areas/attention';
import { ChannelView } from './ChannelView';
import { subscribeResumable } from './live';
import { InboxSubscription, LoginMutation, LogoutMutation, MeQuery, MyChannelsQuery, SignupMutation } from './operations';
import { Directory, People, Profile } from './pages';
import { href, navigate, type Route, useRoute } from './route';
import { errorText, SessionContext, useSession } from './session';

const TOKEN_KEY = 'chat.token';

/** Holds the session token (localStorage, so a reload stays signed in) and one Apollo Client per token. */
export function Root() {
  const [token, setToken] = useState<string | null>(() => localStorage.getItem(TOKEN_KEY));
  const session = useMemo(() => (token ? createSession(token) : null), [token]);
  useEffect(() => () => session?.dispose(), [session]);

  const signIn = (next: string | null) => {
    if (next) localStorage.setItem(TOKEN_KEY, next);
    else localStorage.removeItem(TOKEN_KEY);
    setToken(next);
  };

  if (!session) return <AuthPage onToken={signIn} />;
  return (
    <ApolloProvider client={session.client}>
      <SessionContext.Provider value={session}>
        <Shell onSignOut={() => signIn(null)} />
      </SessionContext.Provider>
    </ApolloProvider>
  );
}

/** Sign up or log in, with a throwaway client (no token yet). */
function AuthPage({ onToken }: { onToken: (token: string) => void }) {
  const session = useMemo(() => createSession(null), []);
  useEffect(() => () => session.dispose(), [session]);
  const [mode, setMode] = useState<'signup' | 'login'>('signup');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const value = (name: string) => String(form.get(name) ?? '');
    setBusy(true);
    setError('');
    try {
      if (mode === 'signup') {
        const { data } = await session.client.mutate({
          mutation: SignupMutation,
          variables: { input: { username: value('username'), email: value('email'), password: value('password'), displayName: value('displayName') || null } },
        });
        // Sign-up joins the channel named public; land there.
        if (data) onToken(data.signup.token);
      } else {
        const { data } = await session.client.mutate({ mutation: LoginMutation, variables: { input: { login: value('login'), password: value('password') } } });
        if (data) onToken(data.login.token);
      }
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth">
      <h1>chat</h1>
      <div className="tabs">
        <button type="button" className={mode === 'signup' ? 'active' : ''} onClick={() => setMode('signup')}>
          Sign up
        </button>
        <button type="button" className={mode === 'login' ? 'active' : ''} onClick={() => setMode('login')}>
          Log in
        </button>
      </div>
      <form onSubmit={submit} data-testid={`${mode}-form`} key={mode}>
        {mode === 'signup' ? (
          <>
            <label>
              Username <input name="username" autoComplete="username" required />
            </label>
            <label>
              Display name <input name="displayName" />
            </label>
            <label>
              Email <input name="email" type="email" autoComplete="email" required />
            </label>
          </>
        ) : (
          <label>
            Username or email <input name="login" autoComplete="username" required />
          </label>
        )}
        <label>
          Password <input name="password" type="password" autoComplete={mode === 'signup' ? 'new-password' : 'current-password'} required />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {mode === 'signup' ? 'Create account' : 'Log in'}
        </button>
      </form>
    </main>
  );
}

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const route = useRoute();
  const me = useQuery(MeQuery);
  const channels = useQuery(MyChannelsQuery);
  const [logout] = useMutation(LogoutMutation);
  const openChannelId = route.page === 'channel' ? route.channelId : null;
  useInbox();
  const notificationCount = useNotificationCount();

  // A token the server no longer knows (expired, revoked): back to the sign-in page.
  useEffect(() => {
    if (me.dataState === 'complete' && me.data.me === null) onSignOut();
  }, [me.dataState, me.data, onSignOut]);

  // Home is the channel named public (where sign-up lands), else the first channel.
  useEffect(() => {
    if (route.page !== 'home' || !channels.data) return;
    const home = channels.data.myChannels.find((channel) => channel.kind === 'PUBLIC' && channel.name === 'public') ?? channels.data.myChannels[0];
    if (home) navigate({ page: 'channel', channelId: home.id });
  }, [route.page, channels.data]);

  const signOut = async () => {
    await logout().catch(() => undefined);
    onSignOut();
  };

  const list = channels.data?.myChannels ?? [];
  const rooms = list.filter((channel) => channel.kind !== 'DIRECT');
  const directs = list.filter((channel) => channel.kind === 'DIRECT');
  const viewer = me.data?.me;

  return (
    <div className="shell">
      <nav className="sidebar">
        <header>
          <a href={href({ page: 'profile', username: null })} data-testid="me">
            {viewer ? viewer.displayName : '…'}
          </a>
          <button type="button" className="link" onClick={signOut}>
            Log out
          </button>
        </header>
        <ul className="nav">
          <NavLink route={{ page: 'directory' }} current={route} label="Channel directory" />
          <NavLink route={{ page: 'people' }} current={route} label="People" />
          <NavLink route={{ page: 'notifications' }} current={route} label="Notifications" count={notificationCount} />
        </ul>
        <h2>Channels</h2>
        <ul className="channels" data-testid="channel-list">
          {rooms.map((channel) => (
            <ChannelLink key={channel.id} channel={channel} open={channel.id === openChannelId} label={`# ${channel.name}`} />
          ))}
        </ul>
        <h2>Direct messages</h2>
        <ul className="channels" data-testid="direct-list">
          {directs.map((channel) => (
            <ChannelLink key={channel.id} channel={channel} open={channel.id === openChannelId} label={channel.peer?.displayName ?? channel.name} online={channel.peer?.online} />
          ))}
        </ul>
      </nav>
      <main className="content">
        <Page route={route} />
      </main>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'channel':
      return <ChannelView key={route.channelId} channelId={route.channelId} />;
    case 'directory':
      return <Directory />;
    case 'people':
      return <People />;
    case 'profile':
      return <Profile username={route.username} />;
    case 'notifications':
      return <NotificationsPage />;
    default:
      return <p className="empty">Loading…</p>;
  }
}

function NavLink({ route, current, label, count }: { route: Route; current: Route; label: string; count?: number }) {
  return (
    <li className={route.page === current.page ? 'active' : ''}>
      <a href={href(route)}>
        {label}
        {count ? (
          <span className="badge" data-testid={`${route.page}-count`}>
            {count}
          </span>
        ) : null}
      </a>
    </li>
  );
}

function ChannelLink({ channel, open, label, online }: { channel: { id: string; name: string; unreadCount: number }; open: boolean; label: string; online?: boolean }) {
  return (
    <li className={open ? 'active' : ''} data-testid="channel-link" data-channel-name={channel.name}>
      <a href={href({ page: 'channel', channelId: channel.id })}>
        {online !== undefined && <span className={online ? 'presence online' : 'presence'} />}
        {label}
        {!open && channel.unreadCount > 0 && (
          <span className="badge" data-testid="unread-badge">
            {channel.unreadCount}
          </span>
        )}
      </a>
    </li>
  );
}

// region inbox
/**
 * `inbox` brings every new message by others in any of the viewer's channels, with the
 * channel's unreadCount as the server computes it for this viewer: the normalized cache
 * updates the badge by itself. A channel not yet in the list (someone opened a DIRECT chat
 * with the viewer) refetches the list.
 */
function useInbox() {
  const client = useApolloClient();
  const { ws } = useSession();
  useEffect(
    () =>
      subscribeResumable(client, ws, {
        query: InboxSubscription,
        variables: () => ({}),
        onData: ({ inbox }) => {
          const known = client.readQuery({ query: MyChannelsQuery })?.myChannels.some((channel) => channel.id === inbox.message.channel.id);
          if (!known) void client.refetchQueries({ include: [MyChannelsQuery] });
        },
        // Messages that came while the socket was down are not replayed on inbox: recount.
        onResubscribe: () => void client.refetchQueries({ include: [MyChannelsQuery] }),
      }),
    [client, ws],
  );
}
// endregion inbox
