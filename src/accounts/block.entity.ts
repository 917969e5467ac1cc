import { Entity, Index, ManyToOne, OptionalProps, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { User } from './user.entity';

/** `blocker` blocked `blocked`: no new DIRECT channel between them, no sends from `blocked` in theirs. */
@Entity({ tableName: 'user_blocks' })
@Index({ properties: ['blocked'] })
export class UserBlock {
  [OptionalProps]?: 'createdAt';

  [PrimaryKeyProp]?: ['blocker', 'blocked'];

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  blocker!: User;

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  blocked!: User;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
