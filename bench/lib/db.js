'use strict';
// The bench database: created from scratch per run, migrated by the server's own start-up,
// seeded in bulk straight into the tables (set-based INSERT ... SELECT from unnest or
// generate_series, as fast as COPY here), dropped at the end.
const { createHash, randomBytes, randomUUID } = require('node:crypto');
const { Client } = require('pg');

function withDatabase(baseUrl, database) {
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient(url, fn) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function createDatabase(baseUrl, name) {
  await withClient(withDatabase(baseUrl, 'postgres'), async (admin) => {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
  });
  return withDatabase(baseUrl, name);
}

async function dropDatabase(baseUrl, name) {
  await withClient(withDatabase(baseUrl, 'postgres'), (admin) => admin.query(`drop database if exists "${name}" with (force)`));
}

/** Bench databases of earlier runs whose runner process is gone (killed mid-run). */
async function dropStaleDatabases(baseUrl) {
  await withClient(withDatabase(baseUrl, 'postgres'), async (admin) => {
    const { rows } = await admin.query(`select datname from pg_database where datname ~ '^chat_bench_[0-9]+$'`);
    for (const { datname } of rows) {
      const pid = Number(datname.slice('chat_bench_'.length));
      if (isAlive(pid)) continue;
      await admin.query(`drop database if exists "${datname}" with (force)`).catch(() => undefined);
    }
  });
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** The server stores base64url(sha256(token)) only (src/accounts/session.service.ts). */
function hashToken(token) {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/**
 * `count` users with live sessions, sharing one real password hash (copied from a user
 * who signed up over HTTP). Returns [{ id, username, token }].
 */
async function seedUsers(client, count, { prefix, passwordHash }) {
  const users = Array.from({ length: count }, (_, index) => ({
    id: randomUUID(),
    username: `${prefix}${index}`,
    token: randomBytes(32).toString('base64url'),
  }));
  const batch = 5000;
  for (let offset = 0; offset < users.length; offset += batch) {
    const slice = users.slice(offset, offset + batch);
    await client.query(
      `insert into users (id, email, username, username_key, display_name, password_hash)
       select id, lower(name) || '@bench.test', name, lower(name), name, $3 from unnest($1::uuid[], $2::text[]) as t(id, name)`,
      [slice.map((user) => user.id), slice.map((user) => user.username), passwordHash],
    );
    await client.query(
      `insert into sessions (id, user_id, token_hash, created_at, last_used_at, expires_at, ip, user_agent)
       select gen_random_uuid(), user_id, token_hash, now(), now(), now() + interval '30 days', '127.0.0.1', 'chat-api bench'
       from unnest($1::uuid[], $2::text[]) as t(user_id, token_hash)`,
      [slice.map((user) => user.id), slice.map((user) => hashToken(user.token))],
    );
  }
  await client.query('analyze users, sessions');
  return users;
}

/** Makes the users members of a channel, keeping channels.member_count right. */
async function addMembers(client, channelId, userIds) {
  const { rowCount } = await client.query(
    `insert into memberships (channel_id, user_id, role, joined_at, last_read_seq)
     select $1, user_id, 'MEMBER', now(), 0 from unnest($2::uuid[]) as t(user_id) on conflict do nothing`,
    [channelId, userIds],
  );
  await client.query('update channels set member_count = (select count(*) from memberships where channel_id = $1) where id = $1', [channelId]);
  // With the statistics a running database has for its members (autovacuum's would come a
  // minute later): a plan made while the table looked empty would read every member per send.
  await client.query('analyze memberships');
  return rowCount;
}

/**
 * `count` messages in a channel (seq 1..count, authors round-robin, one second apart and
 * ending now), then channels.last_seq = count, as the send path would have left it.
 */
async function seedMessages(client, channelId, authorIds, count) {
  await client.query(
    `insert into messages (id, channel_id, seq, author_id, body, created_at, upvotes, downvotes)
     select gen_random_uuid(), $1, g, ($2::uuid[])[1 + (g % cardinality($2::uuid[]))],
            'history message ' || g || ' with a little text so rows have a realistic size',
            now() - make_interval(secs => $3 - g), 0, 0
     from generate_series(1, $3::int) as g`,
    [channelId, authorIds, count],
  );
  await client.query('update channels set last_seq = $2, last_activity_at = now() where id = $1', [channelId, count]);
  // As a settled table is (and as autovacuum, off on some hosts, would leave it): hint bits and
  // the visibility map set, so the first scenario phase to read the rows (chat-api's, in each
  // scenario) does not pay for setting them and the baseline after it reads them settled.
  await client.query('vacuum analyze messages');
  // And written out: otherwise the checkpoint the bulk insert set off runs during the first
  // measured phase (chat-api's). Needs superuser or pg_checkpoint; without, the phase pays it.
  await client.query('checkpoint').catch(() => undefined);
}

/** Cluster-wide WAL counters (pg_stat_wal, PostgreSQL 14+). */
async function walStats(client) {
  const { rows } = await client.query('select wal_records, wal_write, wal_sync from pg_stat_wal');
  const row = rows[0];
  return { records: Number(row.wal_records), writes: Number(row.wal_write), syncs: Number(row.wal_sync) };
}

async function serverVersion(client) {
  const { rows } = await client.query('show server_version');
  return rows[0].server_version;
}

module.exports = { createDatabase, dropDatabase, dropStaleDatabases, withClient, withDatabase, seedUsers, addMembers, seedMessages, walStats, serverVersion, hashToken };
