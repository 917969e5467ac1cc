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
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['TRUST_PROXY', 'maybe'],
  ])('rejects %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('keeps argon2id at or above the OWASP floor in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ARGON2_MEMORY_KIB: '1024' })).toThrow(/ARGON2/);
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe(false);
  });
});
