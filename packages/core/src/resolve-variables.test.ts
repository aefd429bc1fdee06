import { describe, expect, it } from "vitest";
import { isNodeMirthError } from "./errors.js";
import { resolveVariables, resolveVariablesDeep, UnsetVariableError } from "./resolve-variables.js";

function caught(fn: () => unknown): UnsetVariableError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UnsetVariableError) return error;
    throw error;
  }
  throw new Error("expected an UnsetVariableError");
}

describe("resolveVariables", () => {
  it("substitutes from the environment", () => {
    expect(
      resolveVariables("mllp://${LAB_HOST}:${LAB_PORT}/x", {
        env: { LAB_HOST: "lab", LAB_PORT: "2575" },
      }),
    ).toBe("mllp://lab:2575/x");
  });

  it("prefers the configuration map over the environment (Map or record)", () => {
    const env = { HOST: "from-env", ONLY_ENV: "e" };
    expect(
      resolveVariables("${HOST} ${ONLY_ENV}", { env, configurationMap: { HOST: "from-map" } }),
    ).toBe("from-map e");
    expect(
      resolveVariables("${HOST}", { env, configurationMap: new Map([["HOST", "from-map"]]) }),
    ).toBe("from-map");
    expect(
      resolveVariables("${lab.host}", { env, configurationMap: { "lab.host": "dotted" } }),
    ).toBe("dotted");
  });

  it("treats an empty string as a value", () => {
    expect(resolveVariables("[${EMPTY}]", { env: { EMPTY: "" } })).toBe("[]");
  });

  it("keeps $${ as a literal ${ and does not resolve it", () => {
    expect(resolveVariables("$${HOME} and ${A}", { env: { A: "a" } })).toBe("${HOME} and a");
    expect(resolveVariables("cost: $5, ${ not a var }, ${}", { env: {} })).toBe(
      "cost: $5, ${ not a var }, ${}",
    );
  });

  it("inserts values verbatim without re-scanning them", () => {
    expect(resolveVariables("${A}", { env: { A: "${B}", B: "no" } })).toBe("${B}");
  });

  it("does not find inherited properties such as ${constructor} or ${toString}", () => {
    const error = caught(() =>
      resolveVariables("${constructor}${toString}", { env: {}, configurationMap: {} }),
    );
    expect(error.unset.map((u) => u.variable)).toEqual(["constructor", "toString"]);
  });

  it("throws ERR_CONFIG_UNSET_VARIABLE naming the variable and the config path", () => {
    const error = caught(() =>
      resolveVariables("${DB_PASSWORD}", {
        env: {},
        path: "channels.adt.destinations[0].properties.password",
      }),
    );
    expect(isNodeMirthError(error)).toBe(true);
    expect(error.code).toBe("ERR_CONFIG_UNSET_VARIABLE");
    expect(error.message).toContain(
      "Variable ${DB_PASSWORD} at channels.adt.destinations[0].properties.password is not set",
    );
    expect(error.message).toContain("$${NAME}");
    expect(error.details).toEqual({
      unset: [
        { variable: "DB_PASSWORD", path: "channels.adt.destinations[0].properties.password" },
      ],
    });
  });

  it("lists every unset variable in one text", () => {
    const error = caught(() => resolveVariables("${A}:${B}:${C}", { env: { B: "b" } }));
    expect(error.unset).toEqual([
      { variable: "A", path: "" },
      { variable: "C", path: "" },
    ]);
    expect(error.message).toMatch(/^2 variables are not set: \$\{A\}, \$\{C\}\./);
  });

  it("reads process.env by default", () => {
    process.env.NM_TEST_RESOLVE = "yes";
    try {
      expect(resolveVariables("${NM_TEST_RESOLVE}")).toBe("yes");
    } finally {
      delete process.env.NM_TEST_RESOLVE;
    }
  });
});

describe("resolveVariablesDeep", () => {
  const env = { HOST: "lab.example.org", PORT: "2575" };

  it("resolves strings inside nested objects and arrays, leaving other values and the input alone", () => {
    const date = new Date(0);
    const input = {
      host: "${HOST}",
      port: 2575,
      tls: true,
      nothing: null,
      when: date,
      hosts: ["${HOST}", { p: "${PORT}" }],
    };
    const out = resolveVariablesDeep(input, { env });
    expect(out).toEqual({
      ...input,
      host: "lab.example.org",
      hosts: ["lab.example.org", { p: "2575" }],
    });
    expect(out.when).toBe(date);
    expect(input.host).toBe("${HOST}");
  });

  it("reports every unset variable at once, with paths", () => {
    const error = caught(() =>
      resolveVariablesDeep(
        { host: "${NOPE}", list: ["ok ${HOST}", "${MISSING}"], "odd key": { x: "${ALSO}" } },
        { env, path: "channels.adt.source.properties" },
      ),
    );
    expect(error.unset).toEqual([
      { variable: "NOPE", path: "channels.adt.source.properties.host" },
      { variable: "MISSING", path: "channels.adt.source.properties.list[1]" },
      { variable: "ALSO", path: 'channels.adt.source.properties["odd key"].x' },
    ]);
    expect(error.message).toContain("3 variables are not set");
    expect(error.message).toContain("${MISSING} at channels.adt.source.properties.list[1]");
  });

  it("leaves skipped paths untouched and unchecked", () => {
    const out = resolveVariablesDeep(
      { host: "${HOST}", template: "${message.encodedData}" },
      { env, skip: (path) => path === "template" },
    );
    expect(out).toEqual({ host: "lab.example.org", template: "${message.encodedData}" });
  });
});
