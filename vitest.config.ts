import { defineConfig } from "vitest/config"

// Tests run the TypeScript sources: the workspace packages resolve to their src/ through the "source"
// export condition (their "default" is the built dist/). The global setup builds dist/ first, so tests
// that start the `deepspark` command or its worker threads run the code under test.
const conditions = ["source", "module", "node", "development|production"]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["source"] } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "src/**/*.test.ts", "test/**/*.test.ts"],
    // Long runs (full LeNet training, multi-minute soak tests) live under test/long and run only with
    // `npm run test:long` (DEEPSPARK_LONG=1); the default suite must stay well under 15 minutes.
    exclude: process.env.DEEPSPARK_LONG ? [] : ["test/long/**"],
    globalSetup: ["test/support/build-before-tests.ts"],
    // Worker threads and child processes start from that build (src/launch/entry-points.ts).
    env: { DEEPSPARK_ENTRIES: "dist" },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"]
  }
})
