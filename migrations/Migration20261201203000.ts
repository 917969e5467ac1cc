import { Migration } from '@mikro-orm/migrations';

// Ids are canonical (lower-case) before any code sees them (src/shared/ids.ts). Before that,
// `openDirectChannel(userId:)` with an upper-cased id created a DIRECT channel per casing
// (named `dm:<a>:<b>` from the id as given), including self-DMs. This removes them:
// - a DIRECT channel whose two participants are one user (self-DM, any casing) is deleted;
// - a non-canonical DIRECT channel whose canonical one exists is deleted, and so are all but
//   the oldest of non-canonical ones sharing a canonical name;
// - the one left is renamed to its canonical name (keeping its members and messages).
// Memberships, messages and votes of deleted channels go with them (on delete cascade).
const CANONICAL = `'dm:' || least(lower(split_part(name, ':', 2)), lower(split_part(name, ':', 3))) || ':' || greatest(lower(split_part(name, ':', 2)), lower(split_part(name, ':', 3)))`;

export const CANONICAL_DIRECT_STATEMENTS: readonly string[] = [
  `delete from channels where kind = 'DIRECT' and lower(split_part(name, ':', 2)) = lower(split_part(name, ':', 3))`,
  `with variant as (select id, created_at, name, ${CANONICAL} as canonical from channels where kind = 'DIRECT')
   delete from channels c using variant v
   where c.id = v.id and v.name <> v.canonical
     and (exists (select 1 from channels k where k.name = v.canonical)
       or exists (select 1 from variant o where o.canonical = v.canonical and o.name <> o.canonical and (o.created_at, o.id) < (v.created_at, v.id)))`,
  `update channels set name = ${CANONICAL} where kind = 'DIRECT' and name <> ${CANONICAL}`,
];

export class Migration20261201203000 extends Migration {
  override async up(): Promise<void> {
    for (const statement of CANONICAL_DIRECT_STATEMENTS) this.addSql(statement);
  }
}
