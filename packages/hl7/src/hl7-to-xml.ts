import type { Hl7Delimiters } from "./delimiters.js";
import type { Hl7Message } from "./hl7-message.js";

/**
 * Mirth's HL7Message XML layout: one element per segment, `<PID.5>` per field
 * repetition, `<PID.5.1>` per component and `<PID.3.4.1>` per subcomponent, but only
 * where the value actually has components or subcomponents. Values are written raw, escape
 * sequences included, so that `hl7FromXml` gives back the same ER7.
 */
export function hl7ToXml(message: Hl7Message): string {
  const d = message.delimiters;
  let out = "<HL7Message>";
  for (const segment of message.segments()) {
    const name = segment.name;
    const fields = segment.toString().split(d.field);
    if (fields.length === 1) {
      out += `<${name}/>`;
      continue;
    }
    out += `<${name}>`;
    if (name === "MSH") {
      out += leaf("MSH.1", d.field) + leaf("MSH.2", fields[1] ?? "");
      for (let i = 2; i < fields.length; i++) out += field(`MSH.${i + 1}`, fields[i] ?? "", d);
    } else {
      for (let i = 1; i < fields.length; i++) out += field(`${name}.${i}`, fields[i] ?? "", d);
    }
    out += `</${name}>`;
  }
  return out + "</HL7Message>";
}

function field(tag: string, value: string, d: Hl7Delimiters): string {
  let out = "";
  for (const repetition of value.split(d.repetition)) {
    if (!repetition.includes(d.component) && !repetition.includes(d.subcomponent)) {
      out += leaf(tag, repetition);
      continue;
    }
    out += `<${tag}>`;
    repetition.split(d.component).forEach((component, i) => {
      const componentTag = `${tag}.${i + 1}`;
      if (!component.includes(d.subcomponent)) {
        out += leaf(componentTag, component);
        return;
      }
      out += `<${componentTag}>`;
      component
        .split(d.subcomponent)
        .forEach((sub, j) => (out += leaf(`${componentTag}.${j + 1}`, sub)));
      out += `</${componentTag}>`;
    });
    out += `</${tag}>`;
  }
  return out;
}

function leaf(tag: string, value: string): string {
  return value === "" ? `<${tag}/>` : `<${tag}>${xmlText(value)}</${tag}>`;
}

/**
 * Escapes markup characters, and writes control characters XML 1.0 cannot hold as
 * character references so that no value is lost (our reader accepts them).
 */
function xmlText(value: string): string {
  let out = "";
  let last = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    let replacement: string | undefined;
    if (code === 38) replacement = "&amp;";
    else if (code === 60) replacement = "&lt;";
    else if (code === 62) replacement = "&gt;";
    else if (code < 32 && code !== 9) replacement = `&#x${code.toString(16).toUpperCase()};`;
    if (replacement === undefined) continue;
    out += value.slice(last, i) + replacement;
    last = i + 1;
  }
  return last === 0 ? value : out + value.slice(last);
}
