// The JSON document of --json, laid out for people as well as programs: one line per
// element of an array of records (one line per result of `run`, per layer of `info`),
// other values on one line when short, indented otherwise. JSON.parse reads it like
// any other JSON.

const SHORT = 80;

function layout(value: unknown, indent: string): string {
  const flat = JSON.stringify(value);
  if (flat === undefined) return 'null';
  if (value === null || typeof value !== 'object' || flat.length <= SHORT) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    const records = value.some((v) => v !== null && typeof v === 'object');
    if (!records) return flat; // an array of numbers or strings stays on one line
    return `[\n${value.map((v) => `${inner}${JSON.stringify(v) ?? 'null'}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${layout(v, inner)}`).join(',\n')}\n${indent}}`;
}

/** The document as --json prints it (without the final newline). */
export function formatJson(value: unknown): string {
  return layout(value, '');
}

/** One line of --jsonl. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value);
}
