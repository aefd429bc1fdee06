import { encodingCharacters, readDelimiters, type Hl7Delimiters } from "./delimiters.js";
import { Hl7ParseError, Hl7XmlError } from "./errors.js";
import type { Hl7Message } from "./hl7-message.js";
import { parseHl7, type ParseHl7Options } from "./parse-hl7.js";

interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
  offset: number;
}

/**
 * Reads Mirth's HL7Message XML layout (as written by `Hl7Message.toXml`, pretty-printed
 * or not) back into a message. Element suffixes place fields, components and
 * subcomponents, so omitted empty elements are filled in. Segments end with CR.
 */
export function hl7FromXml(xml: string, options: ParseHl7Options = {}): Hl7Message {
  const root = new XmlReader(xml).document();
  if (root.name !== "HL7Message")
    throw xmlError("The root element must be <HL7Message>", root.offset);
  const [msh] = root.children;
  if (msh?.name !== "MSH")
    throw xmlError("The first segment must be <MSH>", msh?.offset ?? root.offset);
  const separator = childText(msh, "MSH.1");
  const encoding = childText(msh, "MSH.2");
  let delimiters: Hl7Delimiters;
  try {
    delimiters = readDelimiters(`MSH${separator}${encoding}`);
  } catch (error) {
    throw xmlError("MSH.1/MSH.2 do not define valid delimiters", msh.offset, error);
  }
  let er7 = "";
  for (const segment of root.children) er7 += segmentText(segment, delimiters) + "\r";
  try {
    return parseHl7(er7, options);
  } catch (error) {
    if (error instanceof Hl7XmlError || !(error instanceof Hl7ParseError)) throw error;
    throw xmlError("The XML does not describe a valid HL7 message", root.offset, error);
  }
}

function segmentText(segment: XmlElement, d: Hl7Delimiters): string {
  const fields = numbered(segment, segment.name);
  const isMsh = segment.name === "MSH";
  let out = isMsh ? `MSH${d.field}${encodingCharacters(d)}` : segment.name;
  for (let n = isMsh ? 3 : 1; n < fields.length; n++) {
    const repetitions = fields[n] ?? [];
    out +=
      d.field +
      repetitions
        .map((repetition) => compositeText(repetition, [d.component, d.subcomponent]))
        .join(d.repetition);
  }
  return out;
}

/** Text of a field repetition or component: its own text, or its numbered children joined. */
function compositeText(element: XmlElement, separators: string[]): string {
  if (element.children.length === 0) return element.text;
  const [separator, ...lower] = separators;
  if (separator === undefined)
    throw xmlError(`<${element.name}> is nested too deeply`, element.offset);
  const parts = numbered(element, element.name);
  const texts: string[] = [];
  for (let n = 1; n < parts.length; n++) {
    const [part, extra] = parts[n] ?? [];
    if (extra !== undefined) throw xmlError(`<${extra.name}> appears twice`, extra.offset);
    texts.push(part === undefined ? "" : compositeText(part, lower));
  }
  return texts.join(separator);
}

/** Children named `<prefix>.<n>`, grouped by n (index 0 unused). */
function numbered(parent: XmlElement, prefix: string): XmlElement[][] {
  const groups: XmlElement[][] = [];
  for (const child of parent.children) {
    const suffix = child.name.startsWith(prefix + ".") ? child.name.slice(prefix.length + 1) : "";
    if (!/^[1-9]\d{0,4}$/.test(suffix)) {
      throw xmlError(`<${child.name}> does not belong in <${parent.name}>`, child.offset);
    }
    const n = Number(suffix);
    while (groups.length <= n) groups.push([]);
    groups[n]?.push(child);
  }
  return groups;
}

function childText(parent: XmlElement, name: string): string {
  return parent.children.find((child) => child.name === name)?.text ?? "";
}

function xmlError(message: string, offset: number, cause?: unknown): Hl7XmlError {
  return new Hl7XmlError("ERR_HL7_INVALID_XML", message, { position: { offset }, cause });
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Just enough XML for the HL7Message layout: elements, text, entities, CDATA, comments. */
class XmlReader {
  readonly #xml: string;
  #position = 0;

  constructor(xml: string) {
    this.#xml = xml;
  }

  document(): XmlElement {
    this.#skipMisc();
    const root = this.#element();
    this.#skipMisc();
    if (this.#position < this.#xml.length)
      throw xmlError("Content after the root element", this.#position);
    return root;
  }

  #skipMisc(): void {
    for (;;) {
      while (/\s/.test(this.#xml.charAt(this.#position))) this.#position++;
      if (this.#xml.startsWith("<?", this.#position)) this.#skipPast("?>");
      else if (this.#xml.startsWith("<!--", this.#position)) this.#skipPast("-->");
      else if (this.#xml.startsWith("<!DOCTYPE", this.#position)) this.#skipPast(">");
      else return;
    }
  }

  #skipPast(marker: string): void {
    const end = this.#xml.indexOf(marker, this.#position);
    if (end === -1) throw xmlError(`Unterminated markup, expected ${marker}`, this.#position);
    this.#position = end + marker.length;
  }

  #element(): XmlElement {
    const offset = this.#position;
    if (this.#xml.charAt(offset) !== "<") throw xmlError("Expected an element", offset);
    const tagEnd = this.#xml.indexOf(">", offset);
    if (tagEnd === -1) throw xmlError("Unterminated tag", offset);
    const selfClosing = this.#xml.charAt(tagEnd - 1) === "/";
    const inside = this.#xml.slice(offset + 1, selfClosing ? tagEnd - 1 : tagEnd);
    const name = /^[A-Za-z_][\w.-]*/.exec(inside)?.[0];
    if (name === undefined) throw xmlError("Invalid element name", offset);
    this.#position = tagEnd + 1;
    const element: XmlElement = { name, children: [], text: "", offset };
    if (selfClosing) return element;
    for (;;) {
      const next = this.#xml.indexOf("<", this.#position);
      if (next === -1) throw xmlError(`<${name}> is not closed`, offset);
      element.text += decodeEntities(this.#xml.slice(this.#position, next), this.#position);
      this.#position = next;
      if (this.#xml.startsWith("</", next)) {
        const close = this.#xml.indexOf(">", next);
        if (close === -1 || this.#xml.slice(next + 2, close).trim() !== name) {
          throw xmlError(`<${name}> is closed by a different tag`, next);
        }
        this.#position = close + 1;
        return element;
      }
      if (this.#xml.startsWith("<![CDATA[", next)) {
        const end = this.#xml.indexOf("]]>", next);
        if (end === -1) throw xmlError("Unterminated CDATA section", next);
        element.text += this.#xml.slice(next + 9, end);
        this.#position = end + 3;
      } else if (this.#xml.startsWith("<!--", next)) {
        this.#skipPast("-->");
      } else {
        element.children.push(this.#element());
      }
    }
  }
}

function decodeEntities(text: string, offset: number): string {
  if (!text.includes("&")) return text;
  return text.replace(
    /&(#x[0-9A-Fa-f]+|#\d+|\w+);|&/g,
    (_match, entity: string | undefined, at: number) => {
      if (entity === undefined) throw xmlError("A bare '&' must be written &amp;", offset + at);
      if (entity.startsWith("#")) {
        const code = entity.startsWith("#x")
          ? parseInt(entity.slice(2), 16)
          : parseInt(entity.slice(1), 10);
        if (code > 0x10ffff) throw xmlError("Invalid character reference", offset + at);
        return String.fromCodePoint(code);
      }
      const value = ENTITIES[entity];
      if (value === undefined) throw xmlError("Unknown entity", offset + at);
      return value;
    },
  );
}
