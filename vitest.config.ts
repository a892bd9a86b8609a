import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Two projects so `npm test` gives feedback in under 2 minutes on a 2-core machine while the
// expensive runs still gate CI (`npm run test:slow`, which .ci/run also runs). A new test file
// lands in "fast" unless it is listed here; every folder of src/ keeps tests in "fast".
// Slow: the benchmark smoke tests, end-to-end runs, the reliability suite, the ledger's suites that
// open PGlite (and PostgreSQL when DATABASE_URL is set) per test, pg-boss job queues, the CLI
// started as a real process (the spawned demo, the bin, EPIPE, .env: each pays tsx's start-up), whole
// audits against a simulated host closed mid-run, and the few files that wait on real timers or
// build year-sized worlds.
export const SLOW_TESTS = [
  "test/bench/**/*.test.ts",
  "test/e2e/**/*.test.ts",
  "test/reliability/**/*.test.ts",
  "test/ledger/access-reviews.test.ts",
  "test/ledger/access-reviews-demo.test.ts",
  "test/ledger/app.test.ts",
  "test/ledger/as-of-merge-audit.test.ts",
  "test/ledger/audit-export.test.ts",
  "test/ledger/chain.test.ts",
  "test/ledger/cli-alerts.test.ts",
  "test/ledger/cli.test.ts",
  "test/ledger/coverage-summary.test.ts",
  "test/ledger/coverage.test.ts",
  "test/ledger/observation-head.test.ts",
  "test/ledger/observations-app.test.ts",
  "test/ledger/observations.test.ts",
  "test/ledger/period-export.test.ts",
  "test/ledger/period-population.test.ts",
  "test/ledger/scheduled-audit.test.ts",
  "test/app/deliveries.test.ts",
  "test/app/deliveries-reconcile.test.ts",
  "test/app/durable-schedule.test.ts",
  "test/app/jobs.test.ts",
  "test/app/merged-change.test.ts",
  "test/app/weakening-alerts.test.ts",
  "test/cli/cli.test.ts",
  "test/cli/unreachable-midrun.test.ts",
  "test/cli/bin.test.ts",
  "test/cli/epipe.test.ts",
  "test/cli-env-file.test.ts",
  "test/policy/large-files.test.ts",
  "test/providers/github/client-throttling.test.ts",
  "test/providers/github/push-record.test.ts",
  "test/reporters/report-html-browser.test.ts",
  "test/sim/repository-batch.test.ts",
];

export default defineConfig({
  test: {
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    setupFiles: ["test/setup.ts"],
    // Each project inherits the options above (extends: true).
    projects: [
      // A worker per core: vitest's default for `run` leaves one core to itself (cores - 1), which
      // on a 2-core machine ran every fast file in one worker (113 s; 66 s with 2, 55-62 s with 3,
      // 60 s with 4, measured 2026-11-30). These files mostly wait on loopback sockets and
      // simulated hosts, so the main process needs no core of its own.
      {
        extends: true,
        test: {
          name: "fast",
          include: ["test/**/*.test.ts"],
          exclude: SLOW_TESTS,
          maxWorkers: Math.max(2, availableParallelism()),
          // Projects with their own maxWorkers run as groups: fast first, when both are run at once.
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: "slow", include: SLOW_TESTS, sequence: { groupOrder: 1 } } },
    ],
  },
});
