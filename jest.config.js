/** Type checking runs once in `npm run lint` (tsc --noEmit); jest only transpiles, which keeps it fast. */
const { availableParallelism } = require('node:os');

module.exports = {
  // Many suites wait on servers and child processes (Redis, PostgreSQL, Python, esbuild) rather
  // than compute: two workers finish sooner than jest's default of one on a 2-core machine.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
  snapshotSerializers: ['<rootDir>/test/setup/asset-hash-serializer.ts'],
  testTimeout: 60000,
};
