import type { Reporter, SerializedError, TestModule } from "vitest/node";

/**
 * Prints the one closing line CI reads: `tests: N passed, N failed, N skipped`.
 * A test file that fails to load, and an unhandled error, each count as one failure,
 * so a broken import can never pass as "0 failed".
 */
export class TestSummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const module of testModules) {
      let tests = 0;
      for (const test of module.children.allTests()) {
        tests++;
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      if (tests === 0 && module.state() === "failed") failed++;
    }
    process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
