import { ConfigError, loadConfig } from '../src/config';

describe('config', () => {
  it('has defaults for everything', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.nodeEnv).toBe('development');
    expect(config.introspection).toBe(true);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://x/y'],
    ['REDIS_URL', 'http://localhost'],
    ['REDIS_URL', 'redis+cluster://'],
    ['REDIS_URL', 'redis+cluster://a:6379,b:99999'],
    ['REDIS_URL', 'redis+cluster://a:6379,,b:6379'],
    ['REDIS_URL', 'redis+cluster://a b:6379'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['TRUST_PROXY', 'maybe'],
  ])('rejects %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('reads a Redis Cluster from REDIS_URL=redis+cluster://…, and a plain URL as a single Redis', () => {
    const cluster = loadConfig({ REDIS_URL: 'rediss+cluster://app:p%40ss@redis-0.redis:6379,10.0.0.2:7001,[::1]:7002,redis-3' });
    expect(cluster.redisCluster).toEqual({
      nodes: [
        { host: 'redis-0.redis', port: 6379 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
        { host: 'redis-3', port: 6379 },
      ],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    expect(cluster.redisUrl).toBe('rediss+cluster://app:p%40ss@redis-0.redis:6379,10.0.0.2:7001,[::1]:7002,redis-3');
    expect(loadConfig({ REDIS_URL: 'redis+cluster://:secret@h1:6379' }).redisCluster).toEqual({ nodes: [{ host: 'h1', port: 6379 }], username: undefined, password: 'secret', tls: false });
    const single = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(single.redisCluster).toBeNull();
    expect(single.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(loadConfig({}).redisCluster).toBeNull();
  });

  it('keeps argon2id at or above the OWASP floor in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ARGON2_MEMORY_KIB: '1024' })).toThrow(/ARGON2/);
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe(false);
  });

  it('serves the web client by default outside production only, and where WEB_CLIENT says', () => {
    expect(loadConfig({}).webClient).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test' }).webClient).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).webClient).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', WEB_CLIENT: 'true' }).webClient).toBe(true);
    expect(loadConfig({ WEB_CLIENT: 'false' }).webClient).toBe(false);
    expect(() => loadConfig({ WEB_CLIENT: 'sometimes' })).toThrow(/WEB_CLIENT/);
  });
});
