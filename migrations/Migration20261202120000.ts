import { Migration } from '@mikro-orm/migrations';

// Attention (issue 16): mentions, notifications, notification levels, read receipts.
// message_mentions holds @username mentions (ord) and @here recipients (ord null);
// message_channel_mentions the messages that say @channel; notifications at most one per
// (message, user); notification_levels a user's level where it differs from the default;
// users.share_read_receipts and memberships.last_read_at serve the read receipts.
export class Migration20261202120000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "notification_levels" ("channel_id" uuid not null, "user_id" uuid not null, "level" text check ("level" in ('ALL', 'MENTIONS', 'NONE')) not null, constraint "notification_levels_pkey" primary key ("channel_id", "user_id"));`);
    this.addSql(`create index "notification_levels_user_id_index" on "notification_levels" ("user_id");`);

    this.addSql(`create table "notifications" ("id" uuid not null, "user_id" uuid not null, "message_id" uuid not null, "channel_id" uuid not null, "kind" text check ("kind" in ('MENTION', 'THREAD_REPLY', 'MESSAGE')) not null, "created_at" timestamptz not null default now(), "read_at" timestamptz null, constraint "notifications_pkey" primary key ("id"));`);
    this.addSql(`create index "notifications_unread_index" on "notifications" (user_id, created_at desc, id desc) where read_at is null;`);
    this.addSql(`create index "notifications_user_id_created_at_id_index" on "notifications" (user_id, created_at desc, id desc);`);
    this.addSql(`alter table "notifications" add constraint "notifications_message_id_user_id_unique" unique ("message_id", "user_id");`);

    this.addSql(`create table "message_mentions" ("message_id" uuid not null, "user_id" uuid not null, "ord" int null, constraint "message_mentions_pkey" primary key ("message_id", "user_id"));`);
    this.addSql(`create index "message_mentions_user_id_index" on "message_mentions" ("user_id");`);

    this.addSql(`create table "message_channel_mentions" ("message_id" uuid not null, constraint "message_channel_mentions_pkey" primary key ("message_id"));`);

    this.addSql(`alter table "notification_levels" add constraint "notification_levels_channel_id_foreign" foreign key ("channel_id") references "channels" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "notification_levels" add constraint "notification_levels_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "notifications" add constraint "notifications_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "notifications" add constraint "notifications_message_id_foreign" foreign key ("message_id") references "messages" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "notifications" add constraint "notifications_channel_id_foreign" foreign key ("channel_id") references "channels" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "message_mentions" add constraint "message_mentions_message_id_foreign" foreign key ("message_id") references "messages" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "message_mentions" add constraint "message_mentions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "message_channel_mentions" add constraint "message_channel_mentions_message_id_foreign" foreign key ("message_id") references "messages" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "users" add column "share_read_receipts" boolean not null default true;`);

    this.addSql(`alter table "memberships" add column "last_read_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "notification_levels" cascade;`);

    this.addSql(`drop table if exists "notifications" cascade;`);

    this.addSql(`drop table if exists "message_mentions" cascade;`);

    this.addSql(`drop table if exists "message_channel_mentions" cascade;`);

    this.addSql(`alter table "memberships" drop column "last_read_at";`);

    this.addSql(`alter table "users" drop column "share_read_receipts";`);
  }

}
