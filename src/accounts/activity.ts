import type { EntityManager } from '@mikro-orm/postgresql';
import { ActivityAction, ActivityEntry } from './activity.entity';

export { ActivityAction };

export interface ActivityDetails {
  channelId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

/** Adds an activity log entry to the unit of work (written with the caller's transaction). */
export function recordActivity(em: EntityManager, userId: string, action: ActivityAction, details: ActivityDetails = {}): void {
  em.persist(
    em.create(ActivityEntry, {
      user: userId,
      action,
      channelId: details.channelId ?? null,
      ip: details.ip ?? null,
      userAgent: details.userAgent?.slice(0, 512) ?? null,
      at: new Date(),
    }),
  );
}
