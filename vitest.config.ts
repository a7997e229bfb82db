import { defineConfig } from 'vitest/config';

// Two projects: `unit` (no processes, no sockets — the guard enforces it) and `e2e` (files named
// *.e2e.test.ts: real learner processes, WebSockets, CLIs). `npm test` runs both.
const E2E = 'test/**/*.e2e.test.ts';

export default defineConfig({
  test: {
    // Learner processes and training are CPU-bound; two cores means two test files at once at most.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [E2E],
          setupFiles: ['test/helpers/no-io-guard.ts'],
        },
      },
      { extends: true, test: { name: 'e2e', include: [E2E] } },
    ],
  },
});
