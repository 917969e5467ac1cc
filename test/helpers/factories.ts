import { randomUUID } from 'node:crypto';
import type { App } from '../../src/app';
import { User } from '../../src/accounts/user.entity';
import { Channel, DEFAULT_CHANNEL_NAME } from '../../src/channels/channel.entity';
import { Membership } from '../../src/channels/membership.entity';

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  token: string;
}

let counter = 0;

/** A unique, valid username for this test process. */
export function uniqueName(prefix = 'user'): string {
  counter += 1;
  return `${prefix}${process.pid % 10000}_${counter}_${randomUUID().slice(0, 4)}`;
}

/**
 * A signed-in user made directly through the data layer (quicker than signup, and usable
 * before the accounts feature is involved): a member of `public`, with a live session.
 */
export async function createUser(app: App, overrides: Partial<{ username: string; email: string; password: string; displayName: string }> = {}): Promise<TestUser> {
  const { orm, passwords, sessions } = app.services;
  const username = overrides.username ?? uniqueName();
  const email = overrides.email ?? `${username.toLowerCase()}@example.test`;
  const password = overrides.password ?? 'correct horse battery staple';
  const em = orm.em.fork();
  const user = em.create(User, {
    username,
    usernameKey: username.toLowerCase(),
    email,
    displayName: overrides.displayName ?? username,
    passwordHash: await passwords.hash(password),
  });
  const publicChannel = await em.findOneOrFail(Channel, { name: DEFAULT_CHANNEL_NAME });
  em.create(Membership, { channel: publicChannel, user });
  await em.flush();
  await em.getConnection().execute('update channels set member_count = member_count + 1 where id = ?', [publicChannel.id]);
  const token = await sessions.create(app.services.sql, user.id, { ip: '127.0.0.1', userAgent: 'jest' });
  return { id: user.id, username, email, password, token };
}
