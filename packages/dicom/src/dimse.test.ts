import { describe, expect, it } from "vitest";
import { Scp } from "./dimse.js";

describe("the dcmjs-dimse internals this package overrides", () => {
  it("still has the private P-DATA writer and the C-STORE sink hooks", () => {
    // DicomSender streams file-backed datasets by overriding _sendPDataTF; DicomListener
    // spools C-STOREs through the two store hooks. An upgrade that renames them must fail here.
    const prototype = Scp.prototype as unknown as Record<string, unknown>;
    expect(typeof prototype._sendPDataTF).toBe("function");
    expect(typeof prototype.createStoreWritableStream).toBe("function");
    expect(typeof prototype.createDatasetFromStoreWritableStream).toBe("function");
  });
});
