import { Migration } from '@mikro-orm/migrations';

// Conversations (issue 15): reactions (one row per message, user and emoji) and pins (one row
// per pinned message, with its channel for Channel.pinnedMessages and the 50-pin cap).

export class Migration20261202110000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "message_reactions" ("message_id" uuid not null, "user_id" uuid not null, "emoji" text not null, "created_at" timestamptz not null default clock_timestamp(), constraint "message_reactions_pkey" primary key ("message_id", "user_id", "emoji"));`);
    this.addSql(`create index "message_reactions_user_id_index" on "message_reactions" ("user_id");`);
    this.addSql(`create index "message_reactions_message_id_created_at_index" on "message_reactions" ("message_id", "created_at");`);

    this.addSql(`create table "message_pins" ("message_id" uuid not null, "channel_id" uuid not null, "pinned_by_id" uuid null, "pinned_at" timestamptz not null default clock_timestamp(), constraint "message_pins_pkey" primary key ("message_id"));`);
    this.addSql(`create index "message_pins_channel_id_pinned_at_index" on "message_pins" ("channel_id", "pinned_at");`);

    this.addSql(`alter table "message_reactions" add constraint "message_reactions_message_id_foreign" foreign key ("message_id") references "messages" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "message_reactions" add constraint "message_reactions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "message_pins" add constraint "message_pins_message_id_foreign" foreign key ("message_id") references "messages" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "message_pins" add constraint "message_pins_channel_id_foreign" foreign key ("channel_id") references "channels" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "message_pins" add constraint "message_pins_pinned_by_id_foreign" foreign key ("pinned_by_id") references "users" ("id") on update cascade on delete set null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "message_reactions" cascade;`);

    this.addSql(`drop table if exists "message_pins" cascade;`);
  }

}
