import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatTemplateDate,
  isMessageTimeVariable,
  renderMessageTemplate,
  type MessageTemplateContext,
} from "./message-template.js";
import { resolveVariables } from "./resolve-variables.js";

function context(overrides: Partial<MessageTemplateContext> = {}): MessageTemplateContext {
  return {
    message: {
      channelId: "adt-in",
      messageId: 42,
      destinationId: "lab",
      content: "MSH|^~\\&|A\r",
      channelMap: new Map<string, unknown>([
        ["mrn", "12345"],
        ["count", 3],
        ["tags", ["a", "b"]],
      ]),
      sourceMap: new Map<string, unknown>([["originalFilename", "in.hl7"], ["remoteAddress", "127.0.0.1"]]),
    },
    now: new Date(2026, 10, 24, 9, 5, 7, 8),
    ...overrides,
  };
}

describe("renderMessageTemplate", () => {
  it("fills message fields, map entries and dates", () => {
    const out = renderMessageTemplate(
      "${message.channelId}/${message.messageId}-${channelMap.mrn}-${date('yyyyMMdd_HHmmss.SSS')}.${sourceMap.remoteAddress}",
      context(),
    );
    expect(out).toBe("adt-in/42-12345-20261124_090507.008.127.0.0.1");
    expect(renderMessageTemplate("${message.encodedData}", context())).toBe("MSH|^~\\&|A\r");
  });

  it("turns numbers to text and objects to JSON", () => {
    expect(renderMessageTemplate("${channelMap.count} ${channelMap.tags}", context())).toBe('3 ["a","b"]');
  });

  it("takes originalFilename from the connector's variables first, then the source map", () => {
    expect(renderMessageTemplate("${originalFilename}", context())).toBe("in.hl7");
    expect(renderMessageTemplate("${originalFilename}", context({ variables: { originalFilename: "b.txt" } }))).toBe("b.txt");
  });

  it("leaves configuration variables and escaped literals as written", () => {
    expect(renderMessageTemplate("${HOME} $${channelMap.mrn}", context())).toBe("${HOME} $${channelMap.mrn}");
  });

  it("refuses a missing map entry with ERR_TEMPLATE_VALUE_MISSING naming the token", () => {
    expect(() => renderMessageTemplate("x${channelMap.absent}", context())).toThrow(
      expect.objectContaining({ code: "ERR_TEMPLATE_VALUE_MISSING", details: { token: "${channelMap.absent}" } }),
    );
  });

  it("refuses an unknown message field with ERR_TEMPLATE_INVALID", () => {
    expect(() => renderMessageTemplate("${message.password}", context())).toThrow(
      expect.objectContaining({ code: "ERR_TEMPLATE_INVALID" }),
    );
  });

  it("inserts values verbatim, never re-scanning them", () => {
    const ctx = context();
    (ctx.message.channelMap as Map<string, unknown>).set("evil", "${channelMap.mrn}");
    expect(renderMessageTemplate("${channelMap.evil}", ctx)).toBe("${channelMap.mrn}");
  });

  it("leaves text without tokens unchanged (property)", () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !s.includes("${")), (text) => {
        expect(renderMessageTemplate(text, context())).toBe(text);
      }),
    );
  });

  it("puts any map value in place exactly once (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (before, value, after) => {
        const ctx = context();
        (ctx.message.channelMap as Map<string, unknown>).set("v", value);
        const safe = (s: string) => s.replaceAll("$", "");
        expect(renderMessageTemplate(`${safe(before)}\${channelMap.v}${safe(after)}`, ctx)).toBe(
          safe(before) + value + safe(after),
        );
      }),
    );
  });
});

describe("formatTemplateDate", () => {
  it("pads fields to the run length and keeps other characters", () => {
    const date = new Date(2026, 0, 2, 3, 4, 5, 60);
    expect(formatTemplateDate("yyyy-MM-dd'T'HH:mm:ss.SSS", date)).toBe("2026-01-02'T'03:04:05.060");
    expect(formatTemplateDate("yyMd", date)).toBe("2612");
  });
});

describe("deploy-time resolution", () => {
  it("leaves message-time names for send time and resolves the rest", () => {
    expect(isMessageTimeVariable("channelMap.x")).toBe(true);
    expect(isMessageTimeVariable("message")).toBe(false);
    expect(isMessageTimeVariable("SMTP_PASSWORD")).toBe(false);
    expect(
      resolveVariables("${HOST}/${message.messageId}/${channelMap.a}/${originalFilename}", {
        env: { HOST: "lab.example" },
      }),
    ).toBe("lab.example/${message.messageId}/${channelMap.a}/${originalFilename}");
  });
});
