// The only place that reads process.env. Everything is parsed and validated once;
// a bad value throws a ConfigError naming the variable, and main.ts exits with 1.

export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  nodeEnv: NodeEnv;
  host: string;
  port: number;
  /** Unset: start an embedded PostgreSQL with its data under `dataDir`. */
  databaseUrl: string | undefined;
  /** Unset: in-process pub/sub and caches (one instance only). */
  redisUrl: string | undefined;
  /** Set when REDIS_URL names a Redis Cluster (`redis+cluster://host1:6379,host2:6379`): its seed nodes. */
  redisCluster: RedisClusterConfig | null;
  /** Prepended to every Redis key and pub/sub channel, so deployments can share a Redis. */
  redisKeyPrefix: string;
  /** A Redis command (and a new pub/sub subscription) not answered within this fails: a frozen Redis stalls nothing longer. */
  redisCommandTimeoutMs: number;
  logLevel: LogLevel;
  dataDir: string;
  dbPoolMax: number;
  /** Bounds every SQL statement, so a stuck database fails requests instead of hanging them. */
  dbStatementTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** Take the client address from X-Forwarded-For (behind a load balancer). */
  trustProxy: boolean;
  /** Serve introspection and field suggestions (off in production). */
  introspection: boolean;
  /** Serve the reference web client (web/, built into dist/web) at `/` (off in production unless set). */
  webClient: boolean;
  /** Serve Prometheus GET /metrics on the API's port without a token (a private network only); off by default. */
  exposeMetrics: boolean;
  /** Serve GET /metrics on the API's port to requests bearing this token. */
  metricsToken: string | null;
  /** Serve GET /metrics (no token) on this port of HOST instead, e.g. for a scraper on the private network. */
  metricsPort: number | null;
  /**
   * Browser origins allowed to call the API, over HTTP (CORS) and WebSocket upgrades alike:
   * `*` for any (the default outside production), else these (none by default in production).
   */
  allowedOrigins: '*' | string[];
  /** How long browsers may cache a CORS preflight answer. */
  corsMaxAgeSeconds: number;
  /** MessagesSeen of one member and channel go out at most once per this many ms (read receipts, src/attention). */
  readReceiptWindowMs: number;
  /** How long an instance uses its copy of a user profile (src/accounts/profile-cache.ts); 0: no copy. */
  profileCacheTtlMs: number;
  /** OpenTelemetry tracing (standard OTEL_* variables); off unless `endpoint` is set. */
  tracing: {
    /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL (OTLP over HTTP; traces go to <endpoint>/v1/traces). */
    endpoint: string | null;
    /** OTEL_EXPORTER_OTLP_HEADERS: `key=value,...` sent with every export (e.g. an API key). */
    headers: Record<string, string>;
    serviceName: string;
    serviceVersion: string;
    /** OTEL_TRACES_SAMPLER_ARG: the share of new traces recorded (parent-based, trace-id ratio). */
    sampleRatio: number;
  };
  ws: {
    /** graphql-ws ping interval; a peer that misses a pong is dropped. */
    keepAliveMs: number;
    /** Frames larger than this close the socket with 1009. */
    maxPayloadBytes: number;
    /** A socket that does not send connection_init within this time is closed (4408). */
    initTimeoutMs: number;
    maxSubscriptionsPerConnection: number;
    maxConnectionsPerUser: number;
    /** Open sockets per client address (see TRUST_PROXY), signed in or not; over it: 4430. */
    maxConnectionsPerAddress: number;
    /** Sockets acknowledged without a token, per instance; over it: 4430. */
    maxAnonymousConnections: number;
    /** An anonymous socket that starts no operation within this time after its ack is closed (4431). */
    anonymousIdleMs: number;
    /** A client whose unsent data passes this is disconnected (it resumes with its cursor). */
    maxBufferedBytes: number;
    /** Execute an event once for all subscribers with the same viewer-independent document. */
    sharedExecution: boolean;
  };
  /** Per-user (signup: per client address) rate limits on actions: `limit` per `windowSeconds`. */
  rateLimits: Record<RateLimitedAction, { limit: number; windowSeconds: number }>;
  limits: {
    maxDepth: number;
    maxAliases: number;
    maxTokens: number;
    maxCost: number;
    /** Channels one user may belong to; also the cost bound of `myChannels`. */
    maxChannelsPerUser: number;
    maxBodyBytes: number;
    /** Cache parsed and validated documents for graphql-ws (off only to measure what it saves). */
    documentCache: boolean;
  };
  auth: {
    sessionIdleTtlSeconds: number;
    sessionAbsoluteTtlSeconds: number;
    /** argon2id cost: memory in KiB, iterations, parallelism. */
    argon2MemoryKib: number;
    argon2Iterations: number;
    argon2Parallelism: number;
    /** How many hashes run at once; the rest wait, so a login flood cannot exhaust memory. */
    hashConcurrency: number;
    /** Login attempts without a success per account from one client address per window. */
    loginMaxFailuresPerAccount: number;
    /** Failed logins per account from all addresses together per window (addresses the user signed in from before are exempt). */
    loginMaxFailuresPerAccountTotal: number;
    loginMaxFailuresPerIp: number;
    loginFailureWindowSeconds: number;
  };
}

export interface RedisClusterConfig {
  /** Seed nodes; the client discovers the rest of the cluster from any of them. */
  nodes: Array<{ host: string; port: number }>;
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
}

export type RateLimitedAction = 'sendMessage' | 'editMessage' | 'vote' | 'setTyping' | 'createChannel' | 'openDirectChannel' | 'signup';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`Invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function readString(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

function readOptionalUrl(env: Env, name: string, protocols: string[]): string | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, 'must be a URL');
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must use one of ${protocols.join(', ')}`);
  }
  return value;
}

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]+)\/?$/;
const CLUSTER_NODE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;

/** `redis+cluster://[user:password@]host1:6379,host2:6379` (or `rediss+cluster://` for TLS): a Redis Cluster's seed nodes. */
function readRedisCluster(env: Env, name: string): RedisClusterConfig | null {
  const raw = env[name];
  if (raw === undefined || !/^rediss?\+cluster:/.test(raw)) return null;
  const match = CLUSTER_URL.exec(raw);
  if (!match) throw new ConfigError(name, 'must look like redis+cluster://[user:password@]host1:6379,host2:6379');
  const nodes = match[4].split(',').map((item) => {
    const node = CLUSTER_NODE.exec(item.trim());
    const port = node?.[2] === undefined ? 6379 : Number(node[2]);
    if (!node || port < 1 || port > 65535) throw new ConfigError(name, `has an invalid cluster node "${item}" (expected host:port)`);
    return { host: node[1].replace(/^\[|\]$/g, ''), port };
  });
  const decode = (part: string | undefined) => (part === undefined || part === '' ? undefined : decodeURIComponent(part));
  return { nodes, username: decode(match[2]), password: decode(match[3]), tls: match[1] === 'rediss' };
}

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

/** `<limit>/<windowSeconds>`, e.g. `30/10` for 30 per 10 seconds. */
function readRate(env: Env, name: string, fallback: string): { limit: number; windowSeconds: number } {
  const raw = readString(env, name, fallback).trim();
  const match = /^(\d{1,9})\/(\d{1,7})$/.exec(raw);
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
    throw new ConfigError(name, `must look like <limit>/<windowSeconds> (e.g. 30/10), got "${raw}"`);
  }
  return { limit: Number(match[1]), windowSeconds: Number(match[2]) };
}

function readList(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [];
  const items = raw.split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new ConfigError(name, `must be a comma-separated list of origins such as https://chat.example.com, got "${item}"`);
    }
    if (url.origin !== item.replace(/\/$/, '')) throw new ConfigError(name, `entries must be bare origins (scheme://host[:port]), got "${item}"`);
  }
  return items.map((item) => item.replace(/\/$/, ''));
}

/** OTLP's `key1=value1,key2=value2` (values may be URL-encoded). */
function readHeaders(env: Env, name: string): Record<string, string> {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return {};
  const headers: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const index = pair.indexOf('=');
    const key = pair.slice(0, index).trim();
    if (index < 1 || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) throw new ConfigError(name, 'must look like key1=value1,key2=value2');
    try {
      headers[key] = decodeURIComponent(pair.slice(index + 1).trim());
    } catch {
      throw new ConfigError(name, `has a badly encoded value for ${key}`);
    }
  }
  return headers;
}

function readRatio(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!/^\s*\d*\.?\d+\s*$/.test(raw) || value < 0 || value > 1) throw new ConfigError(name, `must be a number from 0 to 1, got "${raw}"`);
  return value;
}

function readSecret(env: Env, name: string, minLength: number): string | null {
  const value = env[name];
  if (value === undefined || value === '') return null;
  if (value.length < minLength || /\s/.test(value)) throw new ConfigError(name, `must be at least ${minLength} characters without spaces`);
  return value;
}

/** `*`, or a list of origins; unset: any outside production, none in production. */
function readOrigins(env: Env, name: string, production: boolean): '*' | string[] {
  const raw = env[name]?.trim();
  if (raw === '*') return '*';
  if (raw === undefined || raw === '') return production ? [] : '*';
  return readList(env, name);
}

function readEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = readString(env, name, fallback);
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = readEnum<NodeEnv>(env, 'NODE_ENV', ['development', 'production', 'test'], 'development');
  const production = nodeEnv === 'production';
  const config: Config = {
    nodeEnv,
    host: readString(env, 'HOST', production ? '0.0.0.0' : '127.0.0.1'),
    port: readInt(env, 'PORT', 4000, 0, 65535),
    databaseUrl: readOptionalUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: readRedisCluster(env, 'REDIS_URL') ? env.REDIS_URL : readOptionalUrl(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisCluster: readRedisCluster(env, 'REDIS_URL'),
    redisKeyPrefix: readString(env, 'REDIS_KEY_PREFIX', 'chat:'),
    redisCommandTimeoutMs: readInt(env, 'REDIS_COMMAND_TIMEOUT_MS', 2000, 50, 60_000),
    logLevel: readEnum<LogLevel>(
      env,
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      nodeEnv === 'test' ? 'silent' : 'info',
    ),
    dataDir: readString(env, 'DATA_DIR', '.data'),
    dbPoolMax: readInt(env, 'DB_POOL_MAX', 12, 1, 500),
    dbStatementTimeoutMs: readInt(env, 'DB_STATEMENT_TIMEOUT_MS', 5000, 100, 600_000),
    shutdownTimeoutMs: readInt(env, 'SHUTDOWN_TIMEOUT_MS', 8000, 100, 60_000),
    trustProxy: readBool(env, 'TRUST_PROXY', false),
    introspection: readBool(env, 'INTROSPECTION', !production),
    webClient: readBool(env, 'WEB_CLIENT', !production),
    exposeMetrics: readBool(env, 'EXPOSE_METRICS', false),
    metricsToken: readSecret(env, 'METRICS_TOKEN', 16),
    metricsPort: env.METRICS_PORT ? readInt(env, 'METRICS_PORT', 0, 0, 65535) : null,
    allowedOrigins: readOrigins(env, 'ALLOWED_ORIGINS', production),
    corsMaxAgeSeconds: readInt(env, 'CORS_MAX_AGE_SECONDS', 600, 0, 86_400),
    readReceiptWindowMs: readInt(env, 'READ_RECEIPT_WINDOW_MS', 250, 10, 60_000),
    profileCacheTtlMs: readInt(env, 'PROFILE_CACHE_TTL_MS', 60_000, 0, 3_600_000),
    tracing: {
      endpoint: readOptionalUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']) ?? null,
      headers: readHeaders(env, 'OTEL_EXPORTER_OTLP_HEADERS'),
      serviceName: readString(env, 'OTEL_SERVICE_NAME', 'chat-api'),
      serviceVersion: readString(env, 'OTEL_SERVICE_VERSION', '0.1.0'),
      sampleRatio: readRatio(env, 'OTEL_TRACES_SAMPLER_ARG', 1),
    },
    ws: {
      keepAliveMs: readInt(env, 'WS_KEEPALIVE_MS', 12_000, 100, 600_000),
      maxPayloadBytes: readInt(env, 'WS_MAX_PAYLOAD_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
      initTimeoutMs: readInt(env, 'WS_INIT_TIMEOUT_MS', 3000, 100, 60_000),
      maxSubscriptionsPerConnection: readInt(env, 'WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', 100, 1, 10_000),
      maxConnectionsPerUser: readInt(env, 'WS_MAX_CONNECTIONS_PER_USER', 20, 1, 10_000),
      maxConnectionsPerAddress: readInt(env, 'WS_MAX_CONNECTIONS_PER_ADDRESS', 200, 1, 1_000_000),
      maxAnonymousConnections: readInt(env, 'WS_MAX_ANONYMOUS_CONNECTIONS', 500, 0, 1_000_000),
      anonymousIdleMs: readInt(env, 'WS_ANONYMOUS_IDLE_MS', 10_000, 100, 3_600_000),
      maxBufferedBytes: readInt(env, 'WS_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      sharedExecution: readBool(env, 'WS_SHARED_EXECUTION', true),
    },
    rateLimits: {
      sendMessage: readRate(env, 'RATE_LIMIT_SEND_MESSAGE', '30/10'),
      editMessage: readRate(env, 'RATE_LIMIT_EDIT_MESSAGE', '30/60'),
      vote: readRate(env, 'RATE_LIMIT_VOTE', '60/60'),
      setTyping: readRate(env, 'RATE_LIMIT_SET_TYPING', '30/10'),
      createChannel: readRate(env, 'RATE_LIMIT_CREATE_CHANNEL', '10/60'),
      openDirectChannel: readRate(env, 'RATE_LIMIT_DIRECT_CHANNEL', '20/600'),
      signup: readRate(env, 'RATE_LIMIT_SIGNUP_PER_IP', '10/600'),
    },
    limits: {
      maxDepth: readInt(env, 'GRAPHQL_MAX_DEPTH', 10, 1, 100),
      maxAliases: readInt(env, 'GRAPHQL_MAX_ALIASES', 15, 0, 1000),
      maxTokens: readInt(env, 'GRAPHQL_MAX_TOKENS', 2000, 10, 1_000_000),
      maxCost: readInt(env, 'GRAPHQL_MAX_COST', 5000, 1, 10_000_000),
      maxChannelsPerUser: readInt(env, 'MAX_CHANNELS_PER_USER', 200, 1, 100_000),
      maxBodyBytes: readInt(env, 'HTTP_MAX_BODY_BYTES', 100 * 1024, 1024, 100 * 1024 * 1024),
      documentCache: readBool(env, 'GRAPHQL_DOCUMENT_CACHE', true),
    },
    auth: {
      sessionIdleTtlSeconds: readInt(env, 'SESSION_IDLE_TTL_SECONDS', 14 * 24 * 3600, 1, 10 * 365 * 24 * 3600),
      sessionAbsoluteTtlSeconds: readInt(env, 'SESSION_ABSOLUTE_TTL_SECONDS', 90 * 24 * 3600, 1, 10 * 365 * 24 * 3600),
      argon2MemoryKib: readInt(env, 'ARGON2_MEMORY_KIB', 19456, 8, 4 * 1024 * 1024),
      argon2Iterations: readInt(env, 'ARGON2_ITERATIONS', 2, 1, 100),
      argon2Parallelism: readInt(env, 'ARGON2_PARALLELISM', 1, 1, 16),
      hashConcurrency: readInt(env, 'HASH_CONCURRENCY', 4, 1, 256),
      loginMaxFailuresPerAccount: readInt(env, 'LOGIN_MAX_FAILURES_PER_ACCOUNT', 5, 1, 10_000),
      loginMaxFailuresPerAccountTotal: readInt(env, 'LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL', 100, 1, 100_000),
      loginMaxFailuresPerIp: readInt(env, 'LOGIN_MAX_FAILURES_PER_IP', 50, 1, 100_000),
      loginFailureWindowSeconds: readInt(env, 'LOGIN_FAILURE_WINDOW_SECONDS', 300, 1, 86_400),
    },
  };
  if (production && (config.auth.argon2MemoryKib < 19456 || config.auth.argon2Iterations < 2)) {
    // OWASP's floor for argon2id; only tests may go below it.
    throw new ConfigError('ARGON2_MEMORY_KIB', 'and ARGON2_ITERATIONS must be at least 19456 and 2 in production');
  }
  return config;
}
