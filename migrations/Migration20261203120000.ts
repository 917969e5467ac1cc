import { Migration } from '@mikro-orm/migrations';
import { SEND_MESSAGES_V6 } from './Migration20261203100000';

// A send over HTTP with a token the instance has seen live runs before its session is checked
// (docs/accounts.md, "Checked along with the request"), and its batch's statement makes the
// check: the statement reads the batch's sessions first (accounts' sendSessionCheck) and passes
// send_messages which sends' sessions are no longer live, as p_signed_out. Those sends store
// nothing, whatever else holds for them: status 'signed_out'. Every other rule is V6's,
// unchanged; without p_signed_out (null, the default) the function is V6.
//
// The argument list changes, so the old function is dropped in the same transaction: a call
// with six arguments (a running older instance's) resolves to this one, its default filling in.

const SIGNATURE_V6 = 'create or replace function send_messages(p_channel uuid, p_ids uuid[], p_authors uuid[], p_bodies text[], p_keys text[], p_roots uuid[])';
const SIGNATURE_V7 = 'create or replace function send_messages(p_channel uuid, p_ids uuid[], p_authors uuid[], p_bodies text[], p_keys text[], p_roots uuid[], p_signed_out boolean[] default null)';

const NO_CHANNEL_V6 = `return query select 'no_channel'::text, null::uuid`;
const NO_CHANNEL_V7 = `return query select case when p_signed_out[i] then 'signed_out' else 'no_channel' end, null::uuid`;
const NO_CHANNEL_ROWS_V6 = `from generate_series(1, v_count);`;
const NO_CHANNEL_ROWS_V7 = `from generate_series(1, v_count) as i;`;

const LOOP_START_V6 = `  for i in 1 .. v_count loop
    v_member := v_members -> p_authors[i]::text;`;
const LOOP_START_V7 = `  for i in 1 .. v_count loop
    if p_signed_out[i] then
      v_status[i] := 'signed_out';
      continue;
    end if;
    v_member := v_members -> p_authors[i]::text;`;

for (const part of [SIGNATURE_V6, NO_CHANNEL_V6, NO_CHANNEL_ROWS_V6, LOOP_START_V6]) {
  if (SEND_MESSAGES_V6.split(part).length !== 2) throw new Error(`Migration20261203120000: expected one "${part.split('\n')[0]}" in V6`);
}

export const SEND_MESSAGES_V7 = SEND_MESSAGES_V6.replace(SIGNATURE_V6, SIGNATURE_V7)
  .replace(NO_CHANNEL_V6, NO_CHANNEL_V7)
  .replace(NO_CHANNEL_ROWS_V6, NO_CHANNEL_ROWS_V7)
  .replace(LOOP_START_V6, LOOP_START_V7);

export class Migration20261203120000 extends Migration {
  override async up(): Promise<void> {
    this.addSql('drop function send_messages(uuid, uuid[], uuid[], text[], text[], uuid[]);');
    this.addSql(SEND_MESSAGES_V7);
  }

  override async down(): Promise<void> {
    this.addSql('drop function send_messages(uuid, uuid[], uuid[], text[], text[], uuid[], boolean[]);');
    this.addSql(SEND_MESSAGES_V6);
  }
}
