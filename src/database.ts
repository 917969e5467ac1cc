// The app's database schema as MikroORM knows it: every entity and every migration. The ORM
// owns the schema (entities, migrations, the schema-drift test); requests reach the tables
// through each feature's `*.queries.ts` module on the `pg` pool (shared/sql.ts).
import { migrationsList } from '../migrations';
import { ActivityEntry } from './accounts/activity.entity';
import { UserBlock } from './accounts/block.entity';
import { Session } from './accounts/session.entity';
import { User } from './accounts/user.entity';
import { ChannelBan } from './channels/ban.entity';
import { Channel } from './channels/channel.entity';
import { Membership } from './channels/membership.entity';
import { MessagePin } from './conversations/pin.entity';
import { MessageReaction } from './conversations/reaction.entity';
import { Thread, ThreadFollow, ThreadParticipant } from './conversations/thread.entity';
import { Message, MessageEdit, Vote } from './messages/message.entity';
import { MessageReport } from './messages/report.entity';
import { ErrorLogEntry } from './ops/error-log.entity';
import { MessageChannelMention, MessageMention, Notification, NotificationCount, NotificationLevelSetting } from './attention/attention.entity';
import { createOrm, ormOptions, type OrmSchema, type OrmSettings } from './shared/orm';

export const appSchema: OrmSchema = {
  entities: [User, Session, ActivityEntry, UserBlock, Channel, Membership, ChannelBan, Message, Vote, MessageEdit, MessageReport, Thread, ThreadParticipant, ThreadFollow, ErrorLogEntry, MessageReaction, MessagePin, MessageMention, MessageChannelMention, Notification, NotificationCount, NotificationLevelSetting],
  migrations: migrationsList,
};

/** The ORM over the app's entities and migrations. */
export function createAppOrm(settings: OrmSettings) {
  return createOrm(appSchema, settings);
}

export function appOrmOptions(settings: OrmSettings) {
  return ormOptions(appSchema, settings);
}
