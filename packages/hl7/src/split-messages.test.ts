import { describe, expect, it } from "vitest";
import { Hl7MessageSplitter, splitMessages } from "./split-messages.js";

const first = "MSH|^~\\&|A|||||ADT^A01|1\rPID|1||MSH\r";
const second = "MSH|^~\\&|B|||||ADT^A01|2\nPID|1\n";
const third = "MSH|^~\\&|C\r\n";

describe("splitMessages", () => {
  it("splits at each line that starts with MSH, keeping each message's exact text", () => {
    expect(splitMessages(first + second + third)).toEqual([first, second, third]);
  });

  it("drops blank text around messages but keeps other text before the first MSH", () => {
    expect(splitMessages("\r\n\r\n" + first + "\r\n")).toEqual([first + "\r\n"]);
    expect(splitMessages("garbage\r" + first)).toEqual(["garbage\r", first]);
    expect(splitMessages("")).toEqual([]);
  });
});

describe("Hl7MessageSplitter", () => {
  it.each([1, 2, 3, 7, 1000])("gives the same messages for chunks of %i characters", (size) => {
    const text = first + second + third;
    const splitter = new Hl7MessageSplitter();
    const messages: string[] = [];
    for (let i = 0; i < text.length; i += size)
      messages.push(...splitter.push(text.slice(i, i + size)));
    expect(messages).toEqual([first, second]);
    expect(splitter.end()).toEqual([third]);
    expect(splitter.end()).toEqual([]);
  });
});
