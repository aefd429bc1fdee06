import { EgressPolicy, resetInsecureTlsForTests, type OutboundMessage } from "@node-mirth/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderSmtpMail, smtp, smtpPropertiesSchema } from "./smtp-connector.js";

const minimal = { smtpHost: "mail.hospital.test", from: "mirth@hospital.test", to: "lab@hospital.test" };

function message(channelMap: Record<string, unknown> = {}): OutboundMessage {
  return {
    channelId: "adt",
    messageId: 42,
    destinationId: "mail",
    content: "MSH|^~\\&|A\rPID|1||123",
    dataType: "HL7V2",
    channelMap: new Map(Object.entries(channelMap)),
    sourceMap: new Map([["remoteAddress", "10.0.0.9"]]),
  };
}

describe("smtpPropertiesSchema", () => {
  it("fills secure defaults: STARTTLS required, no login, the message as the body", () => {
    expect(smtpPropertiesSchema.parse(minimal)).toMatchObject({
      encryption: "tls",
      authentication: false,
      body: "${message.encodedData}",
      html: false,
      pool: false,
      attachments: [],
      headers: {},
    });
  });

  it("refuses unknown keys (a misspelt setting is never ignored)", () => {
    expect(smtpPropertiesSchema.safeParse({ ...minimal, encrypton: "none" }).success).toBe(false);
    expect(smtpPropertiesSchema.safeParse({ ...minimal, attachments: [{ name: "a", content: "b", mimetype: "x" }] }).success).toBe(false);
  });

  it("refuses a header name that could forge another header, at deploy", () => {
    expect(smtpPropertiesSchema.safeParse({ ...minimal, headers: { "X-Ok": "${channelMap.x}" } }).success).toBe(true);
    for (const name of ["X Bad", "X-Bad:", "X-Bad\r\nBcc", ""]) {
      expect(smtpPropertiesSchema.safeParse({ ...minimal, headers: { [name]: "v" } }).success, name).toBe(false);
    }
  });

  it("takes booleans and numbers as strings (from ${VAR} and Mirth exports)", () => {
    expect(smtpPropertiesSchema.parse({ ...minimal, smtpPort: "2525", authentication: "true", username: "u", password: "p", html: "false" })).toMatchObject({
      smtpPort: 2525,
      authentication: true,
      html: false,
    });
    expect(smtpPropertiesSchema.safeParse({ ...minimal, smtpPort: "70000" }).success).toBe(false);
    expect(smtpPropertiesSchema.safeParse({ ...minimal, encryption: "starttls" }).success).toBe(false);
  });

  it("authentication needs a username and a password", () => {
    const result = smtpPropertiesSchema.safeParse({ ...minimal, authentication: true, username: "mirth" });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["username"]);
  });
});

describe("renderSmtpMail", () => {
  it("fills every template from the message, its maps and one instant", () => {
    const props = smtpPropertiesSchema.parse({
      ...minimal,
      to: "${channelMap.recipient}",
      subject: "${channelMap.mrn} ${date('yyyyMMdd')} from ${sourceMap.remoteAddress}",
      headers: { "X-Message": "${message.channelId}/${message.messageId}" },
      attachments: [
        { name: "${channelMap.mrn}.hl7", content: "${message.encodedData}", mimeType: "application/hl7-v2" },
        { name: "r.pdf", content: "${channelMap.pdf}", mimeType: "application/pdf", encoding: "base64" },
      ],
    });
    const pdf = Buffer.from([37, 80, 68, 70, 0, 255]);
    const mail = renderSmtpMail(props, message({ recipient: "ward7@hospital.test", mrn: "123", pdf: pdf.toString("base64") }), new Date(2026, 0, 31, 12));
    expect(mail).toMatchObject({
      to: "ward7@hospital.test",
      subject: "123 20260131 from 10.0.0.9",
      body: "MSH|^~\\&|A\rPID|1||123",
      headers: { "X-Message": "adt/42" },
    });
    expect(mail.attachments?.[0]).toEqual({ filename: "123.hl7", content: "MSH|^~\\&|A\rPID|1||123", contentType: "application/hl7-v2" });
    expect(mail.attachments?.[1]?.content).toEqual(pdf);
  });

  it("a map key the message lacks fails with ERR_TEMPLATE_VALUE_MISSING instead of a mail with a hole", () => {
    const props = smtpPropertiesSchema.parse({ ...minimal, subject: "Result ${channelMap.accession}" });
    expect(() => renderSmtpMail(props, message())).toThrow(expect.objectContaining({ code: "ERR_TEMPLATE_VALUE_MISSING" }));
  });
});

describe("smtp() plugin at deploy", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    resetInsecureTlsForTests();
  });
  const plugin = smtp();
  const deploy = (properties: Record<string, unknown>, egress?: EgressPolicy) =>
    plugin.createDestination!(smtpPropertiesSchema.parse({ ...minimal, ...properties }), {
      channelId: "adt",
      policy: { allowInsecureBind: false, ...(egress === undefined ? {} : { egress }) },
      dataDir: "data",
    });

  it("refuses credentials over encryption none unless MIRTH_ALLOW_INSECURE_TLS=1", () => {
    vi.stubEnv("MIRTH_ALLOW_INSECURE_TLS", "");
    resetInsecureTlsForTests();
    const insecure = { encryption: "none", authentication: true, username: "mirth", password: "secret" };
    expect(() => deploy(insecure)).toThrow(expect.objectContaining({ code: "ERR_POLICY_INSECURE_TLS" }));
    expect(() => deploy({ encryption: "none" })).not.toThrow();
    expect(() => deploy({ ...insecure, encryption: "tls" })).not.toThrow();
  });

  it("checks allowed_smtp at deploy", () => {
    const egress = new EgressPolicy({ allowed_smtp: ["relay.hospital.test:587"] });
    expect(() => deploy({ smtpHost: "relay.hospital.test" }, egress)).not.toThrow();
    expect(() => deploy({ smtpHost: "relay.hospital.test", encryption: "ssl" }, egress)).toThrow(expect.objectContaining({ code: "ERR_POLICY_EGRESS_DENIED" }));
    expect(() => deploy({ smtpHost: "elsewhere.test" }, egress)).toThrow(expect.objectContaining({ code: "ERR_POLICY_EGRESS_DENIED" }));
  });

  it("reads the trust store at deploy: a missing file is a deploy error", () => {
    expect(() => deploy({ tls: { trustStorePath: "/nonexistent/ca.pem" } })).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_CERTS_/) }));
  });
});
