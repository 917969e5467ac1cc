'use strict';
// Data for the search scenario: channels, memberships and messages whose bodies are drawn
// from a generated word list with a Zipf law (word of rank k with probability ~ 1/k), written
// straight into the tables in set-based INSERTs.

const CONSONANTS = ['b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 't', 'v', 'z'];
const VOWELS = ['a', 'e', 'i', 'o', 'u'];

/**
 * `count` distinct made-up words (no English stop words, nothing a stemmer folds together:
 * every word ends in a vowel), most frequent first. Deterministic.
 */
function wordList(count) {
  const syllables = [];
  for (const c of CONSONANTS) for (const v of VOWELS) syllables.push(c + v);
  const words = [];
  const seen = new Set();
  let state = 12345;
  // xorshift32: deterministic, no floating-point overflow.
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  while (words.length < count) {
    const length = 2 + (next() % 3);
    let word = '';
    for (let i = 0; i < length; i += 1) word += syllables[next() % syllables.length];
    if (!seen.has(word)) {
      seen.add(word);
      words.push(word);
    }
  }
  return words;
}

/** P(rank = k) for the sampler below (floor(V^u), u uniform): log((k+1)/k) / log(V). */
function zipfShare(rank, vocabulary) {
  return Math.log((rank + 1) / rank) / Math.log(vocabulary);
}

/**
 * `channels` channels (even index PUBLIC, odd PRIVATE, owned by ownerId), `readers` members of
 * the first `memberOf` of them, and `messages` messages spread round-robin over the channels
 * (authors drawn at random),
 * one every `spanSeconds / messages` seconds ending now, 6-16 words each. Returns the channels.
 */
async function seedSearchData(client, { prefix, ownerId, authorIds, readerIds, channels, memberOf, messages, words, spanSeconds, log }) {
  const ids = [];
  const names = [];
  const kinds = [];
  for (let i = 0; i < channels; i += 1) {
    ids.push(require('node:crypto').randomUUID());
    names.push(`${prefix}-${i}`);
    kinds.push(i % 2 === 0 ? 'PUBLIC' : 'PRIVATE');
  }
  await client.query(
    `insert into channels (id, name, kind, owner_id, member_count)
     select id, name, kind, $4, 0 from unnest($1::uuid[], $2::text[], $3::text[]) as t(id, name, kind)`,
    [ids, names, kinds, ownerId],
  );
  await client.query(
    `insert into memberships (channel_id, user_id, role, joined_at, last_read_seq)
     select c, u, 'MEMBER', now(), 0 from unnest($1::uuid[]) as c, unnest($2::uuid[]) as u`,
    [ids.slice(0, memberOf), readerIds],
  );
  await client.query('update channels set member_count = (select count(*) from memberships m where m.channel_id = channels.id) where id = any($1::uuid[])', [ids]);

  const { rows } = await client.query('select now() as now');
  const end = rows[0].now;
  const batch = 100_000;
  for (let start = 0; start < messages; start += batch) {
    const stop = Math.min(messages, start + batch);
    await client.query(
      `insert into messages (id, channel_id, seq, author_id, body, created_at, upvotes, downvotes)
       select gen_random_uuid(), ($1::uuid[])[1 + g % $7], 1 + g / $7, ($2::uuid[])[1 + floor(random() * cardinality($2::uuid[]))::int],
              (select string_agg(($3::text[])[floor(power(cardinality($3::text[])::float8, random()))::int], ' ')
                 from generate_series(1, 6 + g % 11) as t(i) where g >= 0),
              $4::timestamptz - make_interval(secs => ($5::int - 1 - g) * $6::float8), 0, 0
         from generate_series($8::int, $9::int - 1) as g`,
      [ids, authorIds, words, end, messages, spanSeconds / messages, channels, start, stop],
    );
    log?.(`search: ${stop.toLocaleString('en-US')} messages`);
  }
  await client.query(
    `update channels c set last_seq = s.n, last_activity_at = s.newest
       from (select channel_id, count(*) as n, max(created_at) as newest from messages where channel_id = any($1::uuid[]) group by channel_id) s
      where c.id = s.channel_id`,
    [ids],
  );
  return ids.map((id, i) => ({ id, name: names[i], kind: kinds[i] }));
}

module.exports = { wordList, zipfShare, seedSearchData };
