import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext, Viewer } from '../shared/context';
import { CurrentUser, OptionalUser } from '../shared/current-user';
import type { Services } from '../services';
import type { ChannelSnapshot, UserSnapshot } from '../domain/snapshots';
import { Channel, ChannelKind } from '../channels/channel.entity';
import { ChannelType, channelSnapshot } from '../channels/channel.types';
import { Membership } from '../channels/membership.entity';
import { ActivityConnection, ActivityEntryType } from './activity.types';
import type { ActivityRecord } from './account.service';
import { userLoader } from './user.loader';
import { AuthPayload, ChangePasswordInput, isOwnProfile, LoginInput, ownProfile, SignupInput, UpdateProfileInput, UserConnection, UserType } from './user.types';

function client(ctx: RequestContext) {
  return { ip: ctx.ip, userAgent: ctx.userAgent };
}

@Resolver(() => UserType)
export class AccountResolver {
  constructor(private readonly services: Services) {}

  @Query(() => UserType, { nullable: true, description: 'The signed-in user, or null without a valid token.' })
  async me(@OptionalUser() viewer: Viewer | null, @Ctx() ctx: RequestContext): Promise<UserSnapshot | null> {
    if (!viewer) return null;
    return this.services.accounts.me(ctx, viewer);
  }

  @Query(() => UserType, { nullable: true, description: 'A profile by id or by username.' })
  async user(
    @CurrentUser() _viewer: Viewer,
    @Ctx() { em }: RequestContext,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('username', () => String, { nullable: true }) username?: string | null,
  ): Promise<UserSnapshot | null> {
    return this.services.accounts.findUser(em, id, username);
  }

  @Query(() => UserConnection, { description: 'Signed-in users, optionally filtered by a prefix of username or display name.' })
  async users(
    @CurrentUser() _viewer: Viewer,
    @Ctx() { em }: RequestContext,
    @Arg('search', () => String, { nullable: true }) search?: string | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return this.services.accounts.listUsers(em, search, first, after);
  }

  @Query(() => ActivityConnection, { description: "The viewer's own activity log, newest first." })
  async myActivity(
    @CurrentUser() viewer: Viewer,
    @Ctx() { em }: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return this.services.accounts.listActivity(em, viewer, first, after);
  }

  @Mutation(() => AuthPayload, { description: 'Creates an account, joins it to the channel named public, and signs it in.' })
  async signup(@Arg('input', () => SignupInput) input: SignupInput, @Ctx() ctx: RequestContext) {
    const data = { email: input.email, username: input.username, password: input.password, displayName: input.displayName };
    const result = await this.services.accounts.signup(ctx.em, data, client(ctx));
    return { token: result.token, user: ownProfile(result.user) };
  }

  @Mutation(() => AuthPayload)
  async login(@Arg('input', () => LoginInput) input: LoginInput, @Ctx() ctx: RequestContext) {
    const result = await this.services.accounts.login(ctx.em, input.login, input.password, client(ctx));
    return { token: result.token, user: ownProfile(result.user) };
  }

  @Mutation(() => Boolean, { description: 'Revokes the token used for this request, over HTTP and on open sockets.' })
  async logout(@CurrentUser() viewer: Viewer, @Ctx() ctx: RequestContext): Promise<boolean> {
    return this.services.accounts.logout(ctx.em, viewer, client(ctx));
  }

  @Mutation(() => Boolean, { description: 'Revokes every other token of the user.' })
  async changePassword(
    @CurrentUser() viewer: Viewer,
    @Arg('input', () => ChangePasswordInput) input: ChangePasswordInput,
    @Ctx() ctx: RequestContext,
  ): Promise<boolean> {
    return this.services.accounts.changePassword(ctx.em, viewer, input.currentPassword, input.newPassword, client(ctx));
  }

  @Mutation(() => UserType)
  async updateProfile(
    @CurrentUser() viewer: Viewer,
    @Arg('input', () => UpdateProfileInput) input: UpdateProfileInput,
    @Ctx() ctx: RequestContext,
  ): Promise<UserSnapshot> {
    const user = await this.services.accounts.updateProfile(ctx.em, viewer, { displayName: input.displayName, bio: input.bio });
    ctx.loaders.clearAll();
    return user;
  }

  @FieldResolver(() => String, { nullable: true, description: 'Visible to the user themself only; null for everyone else.' })
  async email(@Root() user: UserSnapshot, @Ctx() ctx: RequestContext): Promise<string | null> {
    if (!isOwnProfile(user) && ctx.viewer?.userId !== user.id) return null;
    // Snapshots from events carry no email; the viewer's own is loaded.
    if (user.email) return user.email;
    return (await userLoader(ctx).load(user.id))?.email ?? null;
  }
}

@Resolver(() => ActivityEntryType)
export class ActivityResolver {
  @FieldResolver(() => ChannelType, { nullable: true, description: 'Null when the channel was deleted or is not visible to the viewer.' })
  async channel(@Root() entry: ActivityRecord, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot | null> {
    if (!entry.channelId || !ctx.viewer) return null;
    return visibleChannelLoader(ctx, ctx.viewer.userId).load(entry.channelId);
  }
}

/** Channels by id as the viewer may see them (null when deleted or invisible), in two queries per request. */
function visibleChannelLoader(ctx: RequestContext, viewerId: string) {
  return ctx.loaders.get<string, ChannelSnapshot | null>('accounts:visibleChannelById', async (ids) => {
    const channels = await ctx.em.find(Channel, { id: { $in: [...ids] } });
    const memberships = await ctx.em.find(Membership, { user: viewerId, channel: { $in: [...ids] } });
    const memberOf = new Set(memberships.map((membership) => membership.channel.id));
    const visible = new Map(
      channels.filter((channel) => channel.kind === ChannelKind.PUBLIC || memberOf.has(channel.id)).map((channel) => [channel.id, channelSnapshot(channel)]),
    );
    return ids.map((id) => visible.get(id) ?? null);
  });
}
