import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext, Viewer } from '../shared/context';
import { CurrentUser, OptionalUser } from '../shared/current-user';
import type { UserSnapshot } from '../domain/snapshots';
import { ActivityConnection } from './activity.types';
import type { AccountService } from './account.service';
import type { UserDirectory } from './user.loader';
import { AuthPayload, ChangePasswordInput, isOwnProfile, LoginInput, ownProfile, SignupInput, UpdateProfileInput, UserConnection, UserType } from './user.types';
import { PerViewer } from '../shared/viewer-field';

@Resolver(() => UserType)
export class AccountResolver {
  constructor(
    private readonly service: AccountService,
    private readonly userDirectory: UserDirectory,
  ) {}

  @Query(() => UserType, { nullable: true, description: 'The signed-in user, or null without a valid token.' })
  async me(@OptionalUser() viewer: Viewer | null, @Ctx() ctx: RequestContext): Promise<UserSnapshot | null> {
    if (!viewer) return null;
    return this.service.me(ctx);
  }

  @Query(() => UserType, { nullable: true, description: 'A profile by id or by username.' })
  async user(
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('username', () => String, { nullable: true }) username?: string | null,
  ): Promise<UserSnapshot | null> {
    return this.service.findUser(ctx, id, username);
  }

  @Query(() => UserConnection, { description: 'Signed-in users, optionally filtered by a prefix of username or display name.' })
  async users(
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
    @Arg('search', () => String, { nullable: true }) search?: string | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return this.service.listUsers(ctx, search, first, after);
  }

  @Query(() => ActivityConnection, { description: "The viewer's own activity log, newest first." })
  async myActivity(
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return this.service.listActivity(ctx, first, after);
  }

  @Mutation(() => AuthPayload, { description: 'Creates an account, joins it to the channel named public, and signs it in.' })
  async signup(@Arg('input', () => SignupInput) input: SignupInput, @Ctx() ctx: RequestContext) {
    const data = { email: input.email, username: input.username, password: input.password, displayName: input.displayName };
    const result = await this.service.signup(ctx, data);
    return { token: result.token, user: ownProfile(result.user) };
  }

  @Mutation(() => AuthPayload)
  async login(@Arg('input', () => LoginInput) input: LoginInput, @Ctx() ctx: RequestContext) {
    const result = await this.service.login(ctx, input.login, input.password);
    return { token: result.token, user: ownProfile(result.user) };
  }

  @Mutation(() => Boolean, { description: 'Revokes the token used for this request, over HTTP and on open sockets.' })
  async logout(@CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<boolean> {
    return this.service.logout(ctx);
  }

  @Mutation(() => Boolean, { description: 'Revokes every other token of the user.' })
  async changePassword(
    @CurrentUser() _viewer: Viewer,
    @Arg('input', () => ChangePasswordInput) input: ChangePasswordInput,
    @Ctx() ctx: RequestContext,
  ): Promise<boolean> {
    return this.service.changePassword(ctx, input.currentPassword, input.newPassword);
  }

  @Mutation(() => UserType)
  async updateProfile(
    @CurrentUser() _viewer: Viewer,
    @Arg('input', () => UpdateProfileInput) input: UpdateProfileInput,
    @Ctx() ctx: RequestContext,
  ): Promise<UserSnapshot> {
    const user = await this.service.updateProfile(ctx, { displayName: input.displayName, bio: input.bio, shareReadReceipts: input.shareReadReceipts });
    ctx.loaders.clearAll();
    return user;
  }

  @PerViewer()
  @FieldResolver(() => String, { nullable: true, description: 'Visible to the user themself only; null for everyone else.' })
  async email(@Root() user: UserSnapshot, @Ctx() ctx: RequestContext): Promise<string | null> {
    if (!isOwnProfile(user) && ctx.viewer?.userId !== user.id) return null;
    // Snapshots from events carry no email; the viewer's own is loaded.
    if (user.email) return user.email;
    return (await this.userDirectory.load(ctx, user.id))?.email ?? null;
  }
}
