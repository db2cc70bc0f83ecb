import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Kills every process group a test file started and left running, pass or fail.
    setupFiles: ['test/setup/leftovers.ts'],
    // Many tests run the built CLI and helpers from dist/: rebuild it first when a source is newer.
    globalSetup: ['test/setup/fresh-dist.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes and bind loopback ports; two cores, so keep it modest.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
