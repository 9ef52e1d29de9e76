// Lines shared by the run and eval reports: the device-versus-reference verdict, the
// first diverging layer, and the link counters.
import type { Divergence, LinkSummary } from '../run.ts';
import { plain, type Colors } from './color.ts';

/** The verdict lines, the verdict itself in colour when `c` has colour. */
export function verdictLines(
  s: {
    inputs: number;
    mismatches: number | null;
    mismatched_inputs: number | null;
    first_divergence: Divergence | null;
    link: LinkSummary | null;
  },
  c: Colors = plain,
): string[] {
  if (s.mismatches === null) return ['device: none (give --sim or --port PATH to run on the accelerator)'];
  const lines: string[] = [];
  if (s.mismatches === 0) {
    lines.push(
      `${c.green(c.bold('device = integer reference, bit for bit'))}, on all ${s.inputs} inputs (0 mismatching output elements)`,
    );
  } else {
    lines.push(
      `${c.red(c.bold('device DIFFERS from the integer reference'))}: ${s.mismatches} output elements on ${s.mismatched_inputs} of ${s.inputs} inputs`,
    );
    const d = s.first_divergence;
    lines.push(
      d
        ? `first divergence: input #${d.input}, layer ${d.layer} (${d.layer_name}), element ${d.element}: ` +
            `device ${d.device}, reference ${d.reference} (${d.error_lsb > 0 ? '+' : ''}${d.error_lsb} LSB; ${d.differing} elements of that layer differ)`
        : 'first divergence: not found (every layer agreed when read back: an intermittent fault?)',
    );
  }
  const l = s.link;
  if (l) {
    const retx = `${l.retransmissions} retransmissions`;
    lines.push(
      `link: ${l.frames} frames, ${l.bytes_out} bytes out, ${l.bytes_in} bytes in, ` +
        `${l.retransmissions ? c.yellow(retx) : retx} (${l.corrupt_replies} corrupt replies, ${l.timeouts} timeouts)`,
    );
  }
  return lines;
}
