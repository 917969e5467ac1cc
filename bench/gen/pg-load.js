'use strict';
// Generator: the raw PostgreSQL baselines through `pg`, closed loop, one connection per
// client: single-row INSERTs of a message row (synchronous_commit on), or the keyset SELECT
// the history API runs.
const { randomUUID } = require('node:crypto');
const { Client } = require('pg');
const { Histogram } = require('../lib/histogram');
const { now } = require('../lib/clock');
const { serve } = require('../lib/worker');

const INSERT = {
  name: 'bench_insert',
  text: 'insert into messages (id, channel_id, seq, author_id, body, client_message_id, created_at, upvotes, downvotes) values ($1, $2, $3, $4, $5, null, now(), 0, 0)',
};
const COLUMNS = 'id, channel_id, seq, author_id, body, client_message_id, created_at, edited_at, deleted_at, upvotes, downvotes';
const SELECT_LATEST = { name: 'bench_latest', text: `select ${COLUMNS} from messages where channel_id = $1 order by seq desc limit $2` };
const SELECT_BEFORE = { name: 'bench_before', text: `select ${COLUMNS} from messages where channel_id = $1 and seq < $2 order by seq desc limit $3` };

serve({
  /**
   * op: 'insert' (channelId, authorIds[], seqStart, seqStride) | 'select-latest' (channelId,
   * limit) | 'select-before' (channelId, limit, maxSeq).
   */
  async run({ databaseUrl, concurrency, op, durationMs, ...args }) {
    const clients = await Promise.all(
      Array.from({ length: concurrency }, async () => {
        const client = new Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query('set synchronous_commit = on');
        return client;
      }),
    );
    const hist = new Histogram();
    let ok = 0;
    let failed = 0;
    let firstError = null;
    // Insert seqs never collide: generator g of n uses seqStart + g, + n, + 2n, ...
    let nextSeq = args.seqStart;
    const start = now();
    const end = start + durationMs;
    await Promise.all(
      clients.map(async (client, index) => {
        while (now() < end) {
          let query;
          if (op === 'insert') {
            const seq = nextSeq;
            nextSeq += args.seqStride;
            query = { ...INSERT, values: [randomUUID(), args.channelId, seq, args.authorIds[index % args.authorIds.length], `s ${seq} hello from the sends benchmark`] };
          } else if (op === 'select-latest') {
            query = { ...SELECT_LATEST, values: [args.channelId, args.limit] };
          } else {
            const before = args.minSeq + Math.floor(Math.random() * (args.maxSeq - args.minSeq + 1));
            query = { ...SELECT_BEFORE, values: [args.channelId, before, args.limit] };
          }
          const t0 = now();
          try {
            await client.query(query);
            hist.record(now() - t0);
            ok += 1;
          } catch (error) {
            failed += 1;
            firstError ??= String(error.message);
          }
        }
      }),
    );
    const elapsedMs = now() - start;
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    return { ok, failed, firstError, elapsedMs, hist: hist.toJSON() };
  },
});
