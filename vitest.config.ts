import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Spawning node processes and real peers on 2 cores: keep parallelism modest.
    maxWorkers: 2,
  },
});
