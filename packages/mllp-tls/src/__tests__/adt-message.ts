/** A small valid ADT^A01 with the given control id. */
export function adt(controlId: string): string {
  return [
    `MSH|^~\\&|SENDER|FAC|RECEIVER|FAC|20260101120000||ADT^A01^ADT_A01|${controlId}|P|2.5.1`,
    "EVN|A01|20260101120000",
    `PID|1||${controlId}^^^HOSP^MR||DOE^JANE||19800101|F`,
    "PV1|1|I",
  ].join("\r") + "\r";
}
