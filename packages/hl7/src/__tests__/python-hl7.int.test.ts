import { describeWithPeers, runCommand } from "@node-mirth/test-peers";
import { expect, it } from "vitest";
import { FIXTURE_NAMES, fixture } from "../__fixtures__/fixtures.js";
import { parseHl7 } from "../parse-hl7.js";

/**
 * Walks python-hl7's parse tree and prints every leaf with its path in our syntax, raw
 * and as python-hl7 unescapes it. python-hl7 stops splitting where a value has no
 * separator of the next level, so a leaf may sit at the repetition, component or
 * subcomponent level; our getRaw must agree at whichever level that is.
 */
const SCRIPT = String.raw`
import sys, json, hl7
msg = hl7.parse(sys.stdin.buffer.read(), encoding=sys.argv[1])
occurrences = {}
segments = []
for segment in msg:
    name = str(segment[0])
    occurrences[name] = occurrences.get(name, 0) + 1
    base = "%s[%d]" % (name, occurrences[name])
    leaves = []
    def leaf(path, value):
        leaves.append([path, value, msg.unescape(value)])
    for f in range(1, len(segment)):
        for r, rep in enumerate(segment[f], 1):
            path = "%s.%d[%d]" % (base, f, r)
            if isinstance(rep, str):
                leaf(path, rep)
                continue
            for c, comp in enumerate(rep, 1):
                if isinstance(comp, str):
                    leaf("%s.%d" % (path, c), comp)
                    continue
                for s, sub in enumerate(comp, 1):
                    leaf("%s.%d.%d" % (path, c, s), sub)
    segments.append({"name": name, "fields": len(segment) - 1, "leaves": leaves})
print(json.dumps(segments))
`;

/** How python-hl7 must decode each sample: it does not read MSH-18 itself. */
const PYTHON_ENCODING: Record<(typeof FIXTURE_NAMES)[number], string> = {
  "adt-a01.hl7": "latin1",
  "oru-r01.hl7": "ascii",
  "v27-truncation.hl7": "utf-8",
  "mdm-t02-base64.hl7": "ascii",
  "windows-1252.hl7": "cp1252",
};

/**
 * Escapes both libraries decode the same way. python-hl7 deliberately differs on the
 * rest: it turns \.br\ into CR, \H\ and \N\ into "_", and drops \Z..\, \C..\, \M..\ and
 * unknown sequences, where we keep them as written (HL7 §2.7 leaves them to the
 * application). Values that still hold lower-level separators are returned raw by our
 * get(), so they are compared raw only.
 */
function decodedAlike(raw: string): boolean {
  if (/[\^~&]/.test(raw)) return false;
  return !raw.replace(/\\([FSTRE]|X(?:[0-9A-Fa-f]{2})+)\\/g, "").includes("\\");
}

interface PythonSegment {
  name: string;
  fields: number;
  leaves: [path: string, raw: string, decoded: string][];
}

describeWithPeers(
  "python-hl7 agrees on every value of the samples",
  [{ pythonModule: "hl7" }],
  (peers) => {
    const python = peers.python.hl7 ?? "python3";

    it.each(FIXTURE_NAMES)("%s", async (name) => {
      const bytes = fixture(name);
      const result = await runCommand(python, ["-c", SCRIPT, PYTHON_ENCODING[name]], {
        input: bytes,
      });
      // python-hl7 logs each escape it cannot decode to stderr; only its exit code matters.
      expect(result.code, result.stderr.toString()).toBe(0);
      const theirs = JSON.parse(result.stdout.toString()) as PythonSegment[];
      const ours = parseHl7(bytes);

      expect(ours.segments().map((segment) => segment.name)).toEqual(
        theirs.map((segment) => segment.name),
      );
      expect(ours.segments().map((segment) => segment.fieldCount)).toEqual(
        theirs.map((segment) => segment.fields),
      );
      let compared = 0;
      let decodedCompared = 0;
      for (const segment of theirs) {
        for (const [path, raw, decoded] of segment.leaves) {
          expect(ours.getRaw(path), path).toBe(raw);
          compared++;
          if (decodedAlike(raw)) {
            expect(ours.get(path), path).toBe(decoded);
            decodedCompared++;
          }
        }
      }
      expect(compared).toBeGreaterThan(10);
      expect(decodedCompared).toBeGreaterThan(10);
    });
  },
);
