import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type GraphQLRequestListener, HeaderMap } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { type ExecutionResult, GraphQLError, Kind, type OperationDefinitionNode, type OperationTypeNode, parse } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from './config';
import { createLogger, type Logger } from './shared/logger';
import { migrateWithLock } from './shared/orm';
import { createAppOrm } from './database';
import { SqlPool } from './shared/sql';
import { connectRedis, createRedisClients, type RedisClients } from './shared/redis';
import { createLocalEventBus, createRedisEventBus, type EventBus } from './realtime/event-bus';
import { buildAppSchema, type ResolverInstances } from './schema';
import { WsGateway } from './realtime/ws-server';
import { RealtimeService } from './realtime/realtime.service';
import { RealtimeResolver } from './realtime/realtime.resolver';
import type { RequestContext } from './shared/context';
import { formatError, isUnexpected, operationName, withoutSuggestions } from './shared/errors';
import { answerUnparsableRequests, clientIp } from './shared/http';
import { ActionThrottle, RateLimiter } from './shared/rate-limit';
import { PasswordHasher } from './accounts/passwords';
import { SessionService } from './accounts/session.service';
import { UserDirectory } from './accounts/user.loader';
import { PROFILE_CACHE_ENTRIES, ProfileCache } from './accounts/profile-cache';
import { AccountService } from './accounts/account.service';
import { AccountResolver } from './accounts/account.resolver';
import { BlockResolver } from './accounts/block.resolver';
import { BlockService } from './accounts/block.service';
import { ChannelAccessControl } from './channels/access';
import { ChannelLoaders } from './channels/channel.loader';
import { ChannelService } from './channels/channel.service';
import { ActivityChannelResolver, ChannelResolver } from './channels/channel.resolver';
import { MessageLoaders } from './messages/message.loaders';
import { MessageService } from './messages/message.service';
import { MessageThreadResolver, ThreadResolver } from './conversations/thread.resolver';
import { ThreadService } from './conversations/thread.service';
import { MessageResolver } from './messages/message.resolver';
import { ReportResolver } from './messages/report.resolver';
import { ReportService } from './messages/report.service';
import { SearchService } from './search/search.service';
import { ReactionService } from './conversations/reaction.service';
import { ReactionGroupResolver, ReactionResolver } from './conversations/reaction.resolver';
import { deleteReactionsOf } from './conversations/reaction.queries';
import { PinService } from './conversations/pin.service';
import { PinChannelResolver, PinResolver } from './conversations/pin.resolver';
import { deletePinOf } from './conversations/pin.queries';
import { SearchResolver } from './search/search.resolver';
import { AttentionService } from './attention/attention.service';
import { AttentionResolver, ChannelAttentionResolver, MessageAttentionResolver, UserAttentionResolver } from './attention/attention.resolver';
import { MemoryRecentCache, RedisRecentCache } from './messages/recent-cache';
import { ErrorRecorder } from './ops/error-recorder';
import { healthRoutes } from './ops/health';
import { Metrics, MetricsServer, metricsRoutes } from './ops/metrics';
import { contextFacts, observeWebSockets } from './ops/access-log';
import { corsMiddleware, upgradeAllowed } from './ops/cors';
import { RedisKeyValueCache } from './ops/apq-cache';
import { ErrorsAreMissesCache } from '@apollo/utils.keyvaluecache';
import { explorerRoutes } from './explorer/routes';
import { webClientRoutes } from './web/routes';
import { CostLimiter, limitValidationRules } from './shared/limits';
import { GraphqlHttp } from './http/graphql-http';
import { executorGateway, operationRunner, QueryExecutor, type SettledOperation } from './shared/jit';
import { checkVariables, resolveOperation } from './shared/variables';

export interface CreateAppOptions {
  logger?: Logger;
  /** Apply pending migrations in start() (under an advisory lock). Default true. */
  migrate?: boolean;
}

/** What an app instance is made of (for tests, scripts and shutdown); nothing receives it whole. */
export interface AppServices {
  config: Config;
  logger: Logger;
  /** The schema's owner: migrations and the schema-drift test. Requests go through `sql`. */
  orm: MikroORM;
  sql: SqlPool;
  /** Null when REDIS_URL is unset (single instance, in-process pub/sub and caches). */
  redis: RedisClients | null;
  bus: EventBus;
  errors: ErrorRecorder;
  passwords: PasswordHasher;
  sessions: SessionService;
  /** This instance's copy of user profiles, dropped on change through the bus. */
  profiles: ProfileCache;
  accounts: AccountService;
  channels: ChannelService;
  messages: MessageService;
  attention: AttentionService;
  threads: ThreadService;
  realtime: RealtimeService;
}

type Infrastructure = Pick<AppServices, 'config' | 'logger' | 'orm' | 'sql' | 'redis' | 'bus'>;

/**
 * Builds every service with exactly the collaborators it uses, in dependency order (accounts,
 * channels, messages, then the realtime engine over the interfaces they implement), and the
 * resolvers over them.
 */
function compose(infra: Infrastructure): { services: AppServices; resolvers: ResolverInstances } {
  const { config, logger, sql, redis, bus } = infra;
  const errors = new ErrorRecorder(sql, logger);
  // Fixed-window counters, in Redis when configured (shared by instances), else in-process.
  const limiter = new RateLimiter(redis?.command ?? null, config.redisKeyPrefix, logger);
  const throttle = new ActionThrottle(limiter, config.rateLimits);
  const passwords = new PasswordHasher(config.auth);
  const sessions = new SessionService(sql, config.auth);
  // Profiles change rarely and render everywhere (authors of every page): each instance keeps a copy, dropped on change through the bus.
  const profiles = new ProfileCache(bus, logger, { ttlMs: config.profileCacheTtlMs, maxEntries: PROFILE_CACHE_ENTRIES });
  const users = new UserDirectory(sql, profiles);
  const access = new ChannelAccessControl(sql);
  const channelLoaders = new ChannelLoaders(sql, access, users);
  const blocks = new BlockService(sql);
  // Mentions and notifications write along with sends and membership changes (their hooks);
  // `@here` asks the realtime engine's presence, built below, only when a message says it.
  const attention: AttentionService = new AttentionService({ sql, bus, access, users, logger, seenWindowMs: config.readReceiptWindowMs, presence: { areOnline: (ids): Promise<boolean[]> => realtime.presence.areOnline(ids) } });
  const channels = new ChannelService({ sql, access, users, throttle, bus, blocks, maxChannelsPerUser: config.limits.maxChannelsPerUser, hooks: attention });
  const accounts = new AccountService({ sql, auth: config.auth, passwords, sessions, users, limiter, throttle, bus, newAccounts: channels, logger });
  const messageLoaders = new MessageLoaders(sql);
  const recentCache = redis ? new RedisRecentCache(redis.command, config.redisKeyPrefix, logger) : new MemoryRecentCache();
  // A deleted message keeps no reactions or pin: they go in its deleting transaction.
  const messages = new MessageService({
    sql,
    access,
    channelLoaders,
    loaders: messageLoaders,
    users,
    throttle,
    bus,
    recentCache,
    deletionHooks: [deleteReactionsOf, deletePinOf],
    hooks: attention,
  });
  const reactions = new ReactionService({ sql, access, throttle, bus });
  const pins = new PinService({ sql, access, throttle, bus });
  const threads = new ThreadService({ sql, access, channelLoaders, users, bus });
  const realtime: RealtimeService = new RealtimeService({
    bus,
    logger,
    redis: redis?.command ?? null,
    redisKeyPrefix: config.redisKeyPrefix,
    throttle,
    channels: access,
    messages,
    users,
  });
  const resolvers: ResolverInstances = [
    new AccountResolver(accounts, users),
    new BlockResolver(blocks),
    new ActivityChannelResolver(channelLoaders),
    new ChannelResolver(channels, channelLoaders, users),
    new MessageResolver(messages, messageLoaders, channelLoaders),
    new ReportResolver(new ReportService(sql, access), users),
    new ThreadResolver(threads),
    new MessageThreadResolver(threads),
    new RealtimeResolver(realtime),
    new SearchResolver(new SearchService(sql)),
    new ReactionResolver(reactions),
    new ReactionGroupResolver(reactions, users),
    new PinResolver(pins),
    new PinChannelResolver(pins),
    new AttentionResolver(attention),
    new MessageAttentionResolver(attention),
    new ChannelAttentionResolver(attention),
    new UserAttentionResolver(attention),
  ];
  return { services: { ...infra, errors, passwords, sessions, profiles, accounts, channels, messages, threads, attention, realtime }, resolvers };
}

export interface App {
  readonly httpServer: http.Server;
  readonly services: AppServices;
  /** The resolver instances the schema was built over (a test builds its own schema copy from them). */
  readonly resolvers: ResolverInstances;
  readonly ws: WsGateway;
  /** Prometheus metrics of this instance (its own registry). */
  readonly metrics: Metrics;
  /** Connects, migrates, listens; resolves with the GraphQL URL. */
  /** `url`: the GraphQL endpoint; `webUrl`: the web client's page, when it is served. */
  start(): Promise<{ url: string; port: number; metricsPort: number | null; webUrl: string | null }>;
  /** Drains HTTP, closes sockets with 1001, then Redis and the ORM. Safe to call twice. */
  stop(): Promise<void>;
}

export async function createApp(config: Config, options: CreateAppOptions = {}): Promise<App> {
  if (!config.databaseUrl) throw new Error('createApp needs config.databaseUrl (main.ts starts an embedded PostgreSQL when it is unset)');
  const databaseUrl = config.databaseUrl;
  const logger = options.logger ?? createLogger(config);

  const orm = await createAppOrm({ databaseUrl, poolMax: config.dbPoolMax, statementTimeoutMs: config.dbStatementTimeoutMs, logger, connect: false });
  const sql = new SqlPool({ databaseUrl, poolMax: config.dbPoolMax, statementTimeoutMs: config.dbStatementTimeoutMs, logger });
  const redis = config.redisUrl ? createRedisClients(config.redisUrl, logger, config.redisCluster, config.redisCommandTimeoutMs) : null;
  const bus = redis
    ? createRedisEventBus(redis.command, redis.subscriber, config.redisKeyPrefix, logger, config.redisCommandTimeoutMs)
    : createLocalEventBus(config.redisKeyPrefix, logger);
  const { services, resolvers } = compose({ config, logger, orm, sql, redis, bus });
  const schema = await buildAppSchema(resolvers);

  const expressApp = express();
  expressApp.disable('x-powered-by');
  // GraphQL answers are per request: an ETag (a hash of every body) buys nothing.
  expressApp.set('etag', false);
  if (config.trustProxy) expressApp.set('trust proxy', true);
  // Its request listener joins below: /graphql straight into Apollo, the rest through Express.
  const httpServer = http.createServer();
  // Idle keep-alive connections outlive a load balancer's idle timeout (commonly 60 s), so the
  // server never closes one just as a proxy or client reuses it (an ECONNRESET for that request).
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  answerUnparsableRequests(httpServer);
  // One executor (and so one set of compiled documents) for both transports.
  const executor = new QueryExecutor(schema);
  const { sessions, realtime, errors } = services;
  let metrics!: Metrics;
  const ws = new WsGateway(httpServer, schema, executor, {
    config,
    logger,
    bus,
    sessions,
    realtime,
    errors,
    upgradeAllowed: upgradeAllowed(config.allowedOrigins),
    onErrors: (codes) => metrics.graphqlErrors('ws', codes),
  });
  metrics = new Metrics({
    sockets: () => ws.connectionCount,
    subscriptions: () => realtime.activeStreams,
    transport: () => ws.stats,
    bus: () => bus.stats,
    dbPool: () => sql.stats(),
    unexpectedErrors: () => errors.recorded,
  });
  services.messages.onSendBatch((size) => metrics.sendBatch(size));
  observeWebSockets(ws.wss, logger, metrics, (request) => clientIp(request, config.trustProxy));
  const metricsServer = config.metricsPort !== null ? new MetricsServer(metrics, logger) : null;

  const recordedErrors = new WeakMap<object, string>();
  // Requests whose variables do not coerce, answered before cost or execution (shared/variables.ts).
  const badVariables = new WeakMap<object, GraphQLError[]>();
  const runOperation = operationRunner(executor, { traced: config.tracing.endpoint !== null });
  // Operations run in responseForOperation that ended in errors, handed to Apollo's execution step (the gateway) to finish.
  const settledWithErrors = new WeakMap<object, SettledOperation>();
  const costs = new CostLimiter(schema, config.limits.maxCost, config.limits.maxChannelsPerUser);
  const metricsHooks = metrics.requestHooks<RequestContext>(contextFacts);
  const requestListener: GraphQLRequestListener<RequestContext> = {
    // Unexpected errors are recorded here, where the request's context is known;
    // formatError then masks them with the recorded errorId.
    didEncounterErrors: async ({ errors, contextValue, operation }) => {
      for (const error of errors) {
        if (!isUnexpected(error)) continue;
        const scope = { operation: operationName(operation?.operation, error), userId: contextValue.viewer?.userId ?? null, requestId: contextValue.requestId };
        recordedErrors.set(error, services.errors.record(error.originalError, scope));
      }
    },
    didResolveOperation: async (requestContext) => {
      metricsHooks.operationResolved(requestContext);
      const { document, request, operation, operationName, contextValue } = requestContext;
      // An operationName naming no operation: a client error (Apollo would make it a 500).
      const resolved = operation ?? resolveOperation(document, request.operationName);
      if (resolved instanceof GraphQLError) throw resolved;
      // Subscriptions run over graphql-ws only: over HTTP graphql-js would call the event
      // resolvers with no event (an internal error).
      if (resolved.operation === 'subscription') {
        throw new GraphQLError('Subscriptions are served over WebSocket (graphql-ws) only.', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
      }
      const variableErrors = checkVariables(schema, resolved, request.variables, { suggestions: config.introspection });
      if (variableErrors.length > 0) return void badVariables.set(contextValue, variableErrors);
      const tooExpensive = costs.check(document, request.variables, operationName);
      if (tooExpensive) throw tooExpensive;
    },
    responseForOperation: async ({ contextValue, document, operation, operationName, request }) => {
      // A request that came before its session check (graphql-http.ts, for the documents
      // sessionCarryingBodies picks) runs ahead of it only as an operation whose statements
      // carry the check (history pages, sends); anything else that got this far waits for it
      // here, as it would have for its context (and reads the viewer's row with it, viewerRow).
      const check = contextValue.sessionCheck;
      // Never sent when the check fails: graphql-http.ts runs the request again.
      if (check && !carriesSessionCheck(operation) && !(await check.confirm())) {
        return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data: null } } };
      }
      // Bad variables: a few BAD_USER_INPUT errors (none repeats the value), status 400.
      const errors = badVariables.get(contextValue);
      if (errors) {
        const formatted = errors.map(({ message, locations, extensions }) => ({ message, locations, extensions: { code: extensions.code, field: extensions.field } }));
        return { http: { status: 400, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { errors: formatted } } };
      }
      // The operation runs here. Apollo's own execution step, which runs it otherwise, costs a
      // request a gateway context, an Accept-header negotiation and two rounds of (unused)
      // execution hooks: an answer without errors leaves from here. One with errors goes on
      // through that step, which the gateway answers with this same result (it never runs an
      // operation twice), so errors are recorded, formatted and masked as always.
      let result: ExecutionResult;
      try {
        result = await runOperation(document, operationName ?? undefined, operation?.operation ?? 'query', contextValue, request.variables);
      } catch (error) {
        settledWithErrors.set(contextValue, { error });
        return null;
      }
      if (result.errors && result.errors.length > 0) {
        settledWithErrors.set(contextValue, { result });
        return null;
      }
      return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: result } };
    },
    willSendResponse: async (requestContext) => metricsHooks.responseWillSend(requestContext),
    // No "Did you mean ...?" where introspection is off (production), as Apollo's
    // hideSchemaDetailsFromClientErrors does, here: that option installs a plugin of its own,
    // a second listener whose every hook Apollo awaits on every request for this one, which
    // runs only when a document is validated (not cached yet).
    ...(config.introspection
      ? {}
      : {
          validationDidStart: async () => async (errors?: readonly Error[]) => {
            for (const error of errors ?? []) error.message = withoutSuggestions(error.message);
          },
        }),
  };
  const apollo = new ApolloServer<RequestContext>({
    // The schema, executed by graphql-jit once a document repeats (shared/jit.ts).
    gateway: executorGateway(schema, runOperation, settledWithErrors),
    introspection: config.introspection,
    csrfPrevention: true,
    // Persisted queries (APQ) in Redis when there is one, so replicas share them; else in-process.
    ...(redis ? { persistedQueries: { cache: new ErrorsAreMissesCache(new RedisKeyValueCache(redis.command, `${config.redisKeyPrefix}apq:`), logger) } } : {}),
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    // Request limits run before any resolver or SQL: tokens at parse, depth and aliases at
    // validation, cost once the variables are known.
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: limitValidationRules(config.limits),
    formatError: (formatted, error) =>
      formatError(formatted, error, (unexpected) => (error instanceof Object && recordedErrors.get(error)) || services.errors.record(unexpected, { operation: 'request' })),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.shutdownTimeoutMs }),
      // Browsers get the bundled explorer (src/explorer), never Apollo's CDN-hosted landing page.
      ApolloServerPluginLandingPageDisabled(),
      // Cache hints are unused; installed, the plugin wraps every field resolver of the schema.
      ApolloServerPluginCacheControlDisabled(),
      // Never a federation subgraph: installed implicitly, it is called (to do nothing) on every request.
      ApolloServerPluginInlineTraceDisabled(),
      { serverWillStart: async () => ({ drainServer: () => ws.dispose() }) },
      // One listener, made once: it keeps no per-request state, and Apollo runs every listener's
      // hooks (a promise each) for every request.
      { requestDidStart: async () => requestListener },
    ],
  });

  // POST and GET /graphql go from node:http straight into Apollo (src/http/graphql-http.ts);
  // health, metrics, the explorer, preflights and anything else on /graphql go through Express.
  const graphqlHttp = new GraphqlHttp({
    apollo,
    sessions,
    logger,
    metrics,
    trustProxy: config.trustProxy,
    maxBodyBytes: config.limits.maxBodyBytes,
    allowedOrigins: config.allowedOrigins,
    traced: config.tracing.endpoint !== null,
    runsBeforeSessionCheck: sessionCarryingBodies(),
  });
  httpServer.on('request', graphqlHttp.listener(expressApp));
  const graphqlRoutes = Router();
  // CORS (ALLOWED_ORIGINS): preflights and the Access-Control-* headers of every answer.
  expressApp.use('/graphql', corsMiddleware(config.allowedOrigins, config.corsMaxAgeSeconds));
  expressApp.post('/graphql', graphqlRoutes);
  expressApp.use(healthRoutes({ sql, redis, bus }));
  if (config.metricsToken !== null || (config.exposeMetrics && config.metricsPort === null)) {
    expressApp.use(metricsRoutes(metrics, { token: config.metricsToken }));
  }
  // GraphiQL for browsers on GET /graphql (before Apollo; it needs introspection, so only with it).
  if (config.introspection) expressApp.use(explorerRoutes({ logger }));
  // The reference chat client (web/) on GET / (WEB_CLIENT; off in production unless set).
  const webClient = config.webClient ? webClientRoutes({ logger }) : null;
  if (webClient) expressApp.use(webClient);
  expressApp.use('/graphql', graphqlRoutes);

  let started = false;
  let stopping: Promise<void> | null = null;

  return {
    httpServer,
    services,
    resolvers,
    ws,
    metrics,
    async start() {
      await orm.connect();
      if (options.migrate !== false) await migrateWithLock(orm, databaseUrl, logger);
      if (redis) await connectRedis(redis);
      await services.profiles.start();
      await ws.start();
      await apollo.start();
      started = true;
      graphqlRoutes.use((req: Request, res: Response) => graphqlHttp.handle(req, res));
      expressApp.use(bodyErrorHandler(logger));
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      const { port } = httpServer.address() as AddressInfo;
      const metricsPort = metricsServer ? await metricsServer.listen(config.metricsPort!, config.host) : null;
      if (metricsPort !== null) logger.info({ port: metricsPort }, 'metrics on their own port: GET /metrics');
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/graphql`;
      logger.info(
        { url, pubsub: redis ? 'redis' : 'in-process', instances: redis ? 'many' : 'one' },
        redis ? 'pub/sub and caches through Redis' : 'REDIS_URL is unset: in-process pub/sub and caches (run one instance only)',
      );
      return { url, port, metricsPort, webUrl: webClient ? new URL('/', url).href : null };
    },
    stop() {
      stopping ??= (async () => {
        logger.info('shutting down');
        if (started) {
          // Stops accepting, waits for in-flight requests, then closes sockets with 1001.
          await apollo.stop();
        } else {
          await ws.dispose();
          if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
        }
        // Events and cache updates of sends committed before the drain still go out.
        await services.messages.settled();
        await services.accounts.settled();
        await services.attention.close();
        await services.errors.flush();
        await metricsServer?.close();
        // Closing the bus ends every subscription (the profiles topic's too): an unsubscribe sent
        // just before it raced the close ("Connection is closed", unhandled).
        await bus.close();
        if (redis) await redis.close();
        await orm.close(true);
        await sql.close();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}

/**
 * Root fields whose statements carry a pending session check (message.service.ts): a deep
 * history page reads the session with its rows, and a send's batch statement checks it before
 * it stores anything (a later send of the same document waits for that check). An operation
 * of these alone runs before the check, and its answer waits for it (graphql-http.ts); an
 * unclaimed check goes out alone alongside the operation's statements.
 */
const SESSION_CARRYING_FIELDS: Partial<Record<OperationTypeNode, ReadonlySet<string>>> = {
  query: new Set(['messages', '__typename']),
  mutation: new Set(['sendMessage', '__typename']),
};

function carriesSessionCheck(operation: OperationDefinitionNode | undefined): boolean {
  const fields = operation ? SESSION_CARRYING_FIELDS[operation.operation] : undefined;
  return operation !== undefined && fields !== undefined && operation.selectionSet.selections.every((selection) => selection.kind === Kind.FIELD && fields.has(selection.name.value));
}

/** Documents of this length or more are not looked at (they get the usual lookup first). */
const MAX_CLASSIFIED_QUERY_CHARS = 8192;

/**
 * Whether an HTTP request's body is an operation that carries its session check
 * (carriesSessionCheck), decided before Apollo parses it: its context then does not wait for
 * the session. Anything else looks its session up first, as it would without this, so its
 * lookup overlaps Apollo's work on the document instead of following it (a send's path is
 * its batch's critical path). Parsed once per document text (clients repeat theirs).
 */
function sessionCarryingBodies(): (body: unknown) => boolean {
  const decided = new LRUCache<string, boolean>({ max: 256 });
  return (body) => {
    if (typeof body !== 'object' || body === null) return false;
    const { query, operationName } = body as { query?: unknown; operationName?: unknown };
    if (typeof query !== 'string' || query.length >= MAX_CLASSIFIED_QUERY_CHARS) return false;
    const name = typeof operationName === 'string' ? operationName : null;
    const key = name === null ? query : `${name}\n${query}`;
    let carries = decided.get(key);
    if (carries === undefined) {
      let operation: OperationDefinitionNode | GraphQLError;
      try {
        operation = resolveOperation(parse(query), name);
      } catch {
        return false; // a syntax error: Apollo answers it
      }
      carries = !(operation instanceof GraphQLError) && carriesSessionCheck(operation);
      decided.set(key, carries);
    }
    return carries;
  };
}

/** Body-parser failures (too large, malformed JSON) as GraphQL-shaped JSON errors. */
function bodyErrorHandler(logger: Logger) {
  return (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const err = error as { status?: number; type?: string; message?: string };
    if (res.headersSent) return next(error);
    if (err.type === 'entity.too.large') {
      return res.status(413).json({ errors: [{ message: 'Request body too large.', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    }
    if (err.status && err.status >= 400 && err.status < 500) {
      return res.status(err.status).json({ errors: [{ message: 'Malformed request body.', extensions: { code: 'BAD_REQUEST' } }] });
    }
    logger.error({ err }, 'unhandled HTTP error');
    return res.status(500).json({ errors: [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  };
}
