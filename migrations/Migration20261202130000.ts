import { Migration } from '@mikro-orm/migrations';

// Issue 14, point 5: a per-message version, incremented by every write to a message (edit,
// deletion, vote counts) in the write's own transaction, under the message's row lock. So
// versions follow commit order, and the events carry them: a subscriber that already got
// version n drops an event of version <= n that was published late (src/realtime/channel-stream.ts).
export class Migration20261202130000 extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "messages" add column "version" integer not null default 0;');
  }

  override async down(): Promise<void> {
    this.addSql('alter table "messages" drop column "version";');
  }
}
