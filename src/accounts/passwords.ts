import argon2 from 'argon2';
import pLimit from 'p-limit';
import type { Config } from '../config';

/**
 * argon2id hashing with bounded concurrency: each hash takes `memoryKib` of memory and a
 * libuv thread, so a flood of logins queues here instead of exhausting memory.
 */
export class PasswordHasher {
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly options: argon2.Options & { raw?: false };
  private dummyHash: Promise<string> | undefined;

  constructor(auth: Config['auth']) {
    this.limit = pLimit(auth.hashConcurrency);
    this.options = {
      type: argon2.argon2id,
      memoryCost: auth.argon2MemoryKib,
      timeCost: auth.argon2Iterations,
      parallelism: auth.argon2Parallelism,
    };
  }

  hash(password: string): Promise<string> {
    return this.limit(() => argon2.hash(password, this.options));
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.limit(async () => {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    });
  }

  /** Verifies against a throwaway hash of the same cost, so an unknown user takes as long as a wrong password. */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(await this.prepareDummy(), password);
    return false;
  }

  /** Computes the dummy hash (once); called at startup so the first unknown login is not slower. */
  prepareDummy(): Promise<string> {
    this.dummyHash ??= this.hash('dummy password that matches nothing');
    return this.dummyHash;
  }

  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, this.options);
  }
}
