// A small VCD (IEEE 1364 value change dump) reader for the traces of the core bench:
// scopes, variables and their value changes, and the value of any variable at any time.
// Vectors are kept as bit strings ('x'/'z' bits read as 0 when a number is asked for).

export interface VcdVar {
  /** Hierarchical name, scopes joined by '.', without the bit range (TOP.npu_core.u_array.in_x_i). */
  name: string;
  width: number;
  /** Change times (ascending) and the value from each on, as bit strings MSB first. */
  times: number[];
  values: string[];
}

export interface Vcd {
  vars: Map<string, VcdVar>;
  /** Every time stamp that appears, ascending. */
  times: number[];
}

export function parseVcd(text: string): Vcd {
  const byCode = new Map<string, VcdVar[]>();
  const vars = new Map<string, VcdVar>();
  const scopes: string[] = [];
  const times: number[] = [];
  let t = 0;
  let inDefs = true;
  const tokens = text.split(/\s+/);
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    if (tok === '') continue;
    if (inDefs) {
      if (tok === '$scope') {
        scopes.push(tokens[i + 2]);
        i += 3; // type name $end
      } else if (tok === '$upscope') {
        scopes.pop();
        i += 1;
      } else if (tok === '$var') {
        // $var type width code name [range] $end
        const width = Number(tokens[i + 2]);
        const code = tokens[i + 3];
        const name = [...scopes, tokens[i + 4]].join('.');
        let j = i + 5;
        while (tokens[j] !== '$end') j++;
        const v: VcdVar = { name, width, times: [], values: [] };
        vars.set(name, v);
        const list = byCode.get(code) ?? [];
        list.push(v);
        byCode.set(code, list);
        i = j;
      } else if (tok === '$enddefinitions') {
        inDefs = false;
        i += 1;
      } else if (tok.startsWith('$')) {
        let j = i + 1;
        while (j < tokens.length && tokens[j] !== '$end') j++;
        i = j;
      }
      continue;
    }
    const c = tok[0];
    if (c === '#') {
      t = Number(tok.slice(1));
      times.push(t);
    } else if (c === 'b' || c === 'B' || c === 'r' || c === 'R') {
      const value = tok.slice(1);
      const code = tokens[++i];
      for (const v of byCode.get(code) ?? [])
        push(v, t, value.padStart(v.width, value[0] === '1' ? '0' : value[0]));
    } else if (c === '$') {
      // $dumpvars / $end and the like around the initial values
    } else {
      // scalar: value then code, no space
      const code = tok.slice(1);
      for (const v of byCode.get(code) ?? []) push(v, t, c);
    }
  }
  return { vars, times };
}

function push(v: VcdVar, t: number, value: string): void {
  if (v.times.length > 0 && v.times[v.times.length - 1] === t) v.values[v.values.length - 1] = value;
  else {
    v.times.push(t);
    v.values.push(value);
  }
}

/** The bit string of `v` at time `t` (the last change at or before it), or null before any. */
export function bitsAt(v: VcdVar, t: number): string | null {
  let lo = 0;
  let hi = v.times.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (v.times[mid] <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? null : v.values[found];
}

/** Bits [lsb, lsb + width) of a bit string (MSB first) as an unsigned or two's-complement number. */
export function field(bits: string, lsb: number, width: number, signed: boolean): number {
  const end = bits.length - lsb;
  const s = bits.slice(Math.max(0, end - width), end).replace(/[xXzZ]/g, '0');
  let v = 0;
  for (const ch of s) v = v * 2 + (ch === '1' ? 1 : 0);
  if (signed && s.length > 0 && s[0] === '1') v -= 2 ** s.length;
  return v;
}
