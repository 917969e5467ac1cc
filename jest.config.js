/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  setupFiles: ['<rootDir>/test/setup/env.ts'],
  testTimeout: 30_000,
  // Each worker owns one database copy; two cores here, CI machines alike.
  maxWorkers: process.env.JEST_MAX_WORKERS ? Number(process.env.JEST_MAX_WORKERS) : 2,
  // Workers leave nothing open (their event loop empties within milliseconds of jest's end
  // message), but tearing a worker process down takes ~0.5-1 s of wall time on a loaded
  // two-core machine, past jest's default of 500 ms, which then reports a "worker failed to
  // exit gracefully" and kills it. Give them the time they need.
  workerGracefulExitTimeout: 10_000,
};
