// The real bound of a list field, declared where the field is defined. The cost limit
// (shared/limits.ts) counts a list without `first`/`last` at MAX_CHANNELS_PER_USER; a list the
// server itself caps (ReactionGroup.users at 10, Thread.participants at 5) is counted at its cap
// instead, so a history page selecting it is priced as the SQL behind it is.
import type { GraphQLField } from 'graphql';
import { Extensions } from 'type-graphql';

/** The extension key of the cap (`field.extensions.listCap` in the built schema). */
export const LIST_CAP_EXTENSION = 'listCap';

/**
 * Marks a list field that never returns more than `cap` items. Put it next to
 * `@Field`/`@FieldResolver`: `@ListCap(10) @Field(() => [UserType]) users`.
 */
export function ListCap(cap: number): MethodDecorator & PropertyDecorator {
  if (!Number.isInteger(cap) || cap < 1) throw new Error(`ListCap needs a positive integer, got ${cap}`);
  return Extensions({ [LIST_CAP_EXTENSION]: cap });
}

/** The declared cap of a field of the built schema, or null when it has none. */
export function listCapOf(field: Pick<GraphQLField<unknown, unknown>, 'extensions'>): number | null {
  const cap = field.extensions?.[LIST_CAP_EXTENSION];
  return typeof cap === 'number' && Number.isInteger(cap) && cap > 0 ? cap : null;
}
