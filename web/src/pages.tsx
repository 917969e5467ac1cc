import { useMutation, useQuery } from '@apollo/client/react';
import { type FormEvent, useState } from 'react';
import { CreateChannelMutation, DirectoryQuery, JoinChannelMutation, MeQuery, MyChannelsQuery, OpenDirectChannelMutation, UpdateProfileMutation, UserProfileQuery, UsersQuery } from './operations';
import { href, navigate } from './route';
import { errorText } from './session';

const LIST_PAGE = 25;

/** The PUBLIC channels, searchable, with join; and creating a channel. */
export function Directory() {
  const [search, setSearch] = useState('');
  const directory = useQuery(DirectoryQuery, { variables: { search: search || null, first: LIST_PAGE }, fetchPolicy: 'cache-and-network' });
  const [join] = useMutation(JoinChannelMutation, { refetchQueries: [MyChannelsQuery], awaitRefetchQueries: true });
  const [create] = useMutation(CreateChannelMutation, { refetchQueries: [MyChannelsQuery], awaitRefetchQueries: true });
  const [error, setError] = useState('');
  const connection = directory.data?.channels;

  const open = async (channelId: string, isMember: boolean) => {
    setError('');
    try {
      if (!isMember) await join({ variables: { channelId } });
      navigate({ page: 'channel', channelId });
    } catch (caught) {
      setError(errorText(caught));
    }
  };
  const createChannel = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError('');
    try {
      const { data } = await create({ variables: { input: { name: String(form.get('name')), kind: form.get('private') ? 'PRIVATE' : 'PUBLIC' } } });
      if (data) navigate({ page: 'channel', channelId: data.createChannel.id });
    } catch (caught) {
      setError(errorText(caught));
    }
  };

  return (
    <section className="page" data-testid="directory">
      <h1>Channel directory</h1>
      <input type="search" placeholder="Search channels" value={search} onChange={(event) => setSearch(event.target.value)} aria-label="Search channels" />
      {error && <p className="error">{error}</p>}
      <ul className="cards">
        {connection?.edges.map(({ node }) => (
          <li key={node.id} data-testid="directory-entry">
            <div>
              <strong># {node.name}</strong> <span className="muted">{node.memberCount} members</span>
              {node.description && <p className="muted">{node.description}</p>}
            </div>
            <button type="button" onClick={() => void open(node.id, node.isMember)}>
              {node.isMember ? 'Open' : 'Join'}
            </button>
          </li>
        ))}
      </ul>
      {connection?.pageInfo.hasNextPage && (
        <button type="button" onClick={() => void directory.fetchMore({ variables: { after: connection.pageInfo.endCursor } })}>
          More
        </button>
      )}
      <h2>New channel</h2>
      <form className="inline" onSubmit={createChannel}>
        <input name="name" placeholder="name" required aria-label="Channel name" />
        <label>
          <input type="checkbox" name="private" /> private
        </label>
        <button type="submit">Create</button>
      </form>
    </section>
  );
}

/** Everyone, searchable, with presence; "Message" opens (or reopens) the one DIRECT chat with them. */
export function People() {
  const [search, setSearch] = useState('');
  const me = useQuery(MeQuery).data?.me;
  // Presence changes have no event of their own: poll while the list is open.
  const users = useQuery(UsersQuery, { variables: { search: search || null, first: LIST_PAGE }, fetchPolicy: 'cache-and-network', pollInterval: 10_000 });
  const connection = users.data?.users;
  return (
    <section className="page" data-testid="people">
      <h1>People</h1>
      <input type="search" placeholder="Search people" value={search} onChange={(event) => setSearch(event.target.value)} aria-label="Search people" />
      <ul className="cards">
        {connection?.edges.map(({ node }) => (
          <li key={node.id} data-testid="person" data-username={node.username}>
            <div>
              <span className={node.online ? 'presence online' : 'presence'} />
              <a href={href({ page: 'profile', username: node.username })}>{node.displayName}</a> <span className="muted">@{node.username}</span>
            </div>
            {node.id !== me?.id && <MessageButton userId={node.id} />}
          </li>
        ))}
      </ul>
      {connection?.pageInfo.hasNextPage && (
        <button type="button" onClick={() => void users.fetchMore({ variables: { after: connection.pageInfo.endCursor } })}>
          More
        </button>
      )}
    </section>
  );
}

// region direct
function MessageButton({ userId }: { userId: string }) {
  const [openDirect, { loading, error }] = useMutation(OpenDirectChannelMutation, { refetchQueries: [MyChannelsQuery], awaitRefetchQueries: true });
  const open = async () => {
    const { data } = await openDirect({ variables: { userId } }).catch(() => ({ data: undefined }));
    if (data) navigate({ page: 'channel', channelId: data.openDirectChannel.id });
  };
  return (
    <span>
      {error && <span className="error">{errorText(error)} </span>}
      <button type="button" disabled={loading} onClick={() => void open()} data-testid="message-user">
        Message
      </button>
    </span>
  );
}
// endregion direct

/** A user's profile; one's own (no username) can be edited. */
export function Profile({ username }: { username: string | null }) {
  const me = useQuery(MeQuery).data?.me;
  const target = username ?? me?.username ?? null;
  const profile = useQuery(UserProfileQuery, { variables: { username: target ?? '' }, skip: !target });
  const [update, { error, loading }] = useMutation(UpdateProfileMutation);
  const [saved, setSaved] = useState(false);
  const user = profile.data?.user;
  const own = Boolean(me && user && me.id === user.id);

  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setSaved(false);
    const result = await update({ variables: { input: { displayName: String(form.get('displayName')), bio: String(form.get('bio')) } } }).catch(() => null);
    if (result?.data) setSaved(true);
  };

  if (profile.loading && !user) return <p className="empty">Loading…</p>;
  if (!user) return <p className="empty">No such user.</p>;
  return (
    <section className="page" data-testid="profile">
      <h1>
        <span className={user.online ? 'presence online' : 'presence'} /> {user.displayName}
      </h1>
      <p className="muted">
        @{user.username} · joined {new Date(user.createdAt).toLocaleDateString()}
      </p>
      {own && me ? (
        <form onSubmit={save} className="stacked">
          <p className="muted">{me.email}</p>
          <label>
            Display name <input name="displayName" defaultValue={user.displayName} required />
          </label>
          <label>
            Bio <textarea name="bio" defaultValue={user.bio ?? ''} rows={3} />
          </label>
          {error && <p className="error">{errorText(error)}</p>}
          {saved && <p className="muted">Saved.</p>}
          <button type="submit" disabled={loading}>
            Save
          </button>
        </form>
      ) : (
        <>
          {user.bio && <p>{user.bio}</p>}
          <MessageButton userId={user.id} />
        </>
      )}
    </section>
  );
}
