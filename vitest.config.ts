import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts", "test/**/*.test.ts"],
    pool: "forks",
    // 2 cores: keep parallelism modest; FUSE and scan tests are I/O heavy.
    maxWorkers: 2,
    testTimeout: 30000,
    hookTimeout: 60000,
  },
});
