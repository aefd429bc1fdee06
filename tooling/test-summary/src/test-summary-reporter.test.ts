import type { TestModule } from "vitest/node";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TestSummaryReporter } from "./index.js";

type State = "passed" | "failed" | "skipped" | "pending";

function fakeModule(states: State[], moduleState: "passed" | "failed" = "passed"): TestModule {
  const tests = states.map((state) => ({ result: () => ({ state }) }));
  return {
    state: () => moduleState,
    children: { allTests: () => tests[Symbol.iterator]() },
  } as unknown as TestModule;
}

describe("TestSummaryReporter", () => {
  afterEach(() => vi.restoreAllMocks());

  function summaryOf(modules: TestModule[], unhandled = 0): string {
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    new TestSummaryReporter().onTestRunEnd(modules, Array.from({ length: unhandled }, () => ({
      message: "boom",
    })));
    return String(write.mock.calls.at(-1)?.[0]);
  }

  it("prints the one line CI reads, counting each state", () => {
    expect(summaryOf([fakeModule(["passed", "passed", "skipped"]), fakeModule(["failed", "pending"])])).toBe(
      "tests: 2 passed, 1 failed, 2 skipped\n",
    );
  });

  it("counts a file that failed to load, and unhandled errors, as failures", () => {
    expect(summaryOf([fakeModule([], "failed"), fakeModule(["passed"])], 2)).toBe(
      "tests: 1 passed, 3 failed, 0 skipped\n",
    );
  });
});
