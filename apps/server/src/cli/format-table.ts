export interface TableColumn<Row> {
  header: string;
  value: (row: Row) => string;
}

/**
 * A plain-text table for people: headers in capitals, columns padded to the widest cell,
 * two spaces apart, no trailing spaces. Control characters in cells are shown as `?` so a
 * value from the server can never move the terminal cursor or fake another row.
 */
export function formatTable<Row>(columns: readonly TableColumn<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((column) => printable(column.value(row))));
  const headers = columns.map((column) => column.header.toUpperCase());
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...cells.map((line) => line[index]!.length)),
  );
  const render = (line: readonly string[]) =>
    line
      .map((cell, index) => (index === line.length - 1 ? cell : cell.padEnd(widths[index]!)))
      .join("  ")
      .trimEnd();
  return `${[render(headers), ...cells.map(render)].join("\n")}\n`;
}

/** Key/value lines for one record: `name   value`. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([name]) => name.length));
  return `${fields.map(([name, value]) => `${name.padEnd(width)}  ${printable(value)}`.trimEnd()).join("\n")}\n`;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function printable(value: string): string {
  return value.replace(CONTROL, "?");
}

/** ISO 8601 in UTC, to the second: what an operator pastes into `--from`. */
export function formatTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}
