// Colour for verdicts on a terminal: green for agreement and success, red for a
// difference or a failure, yellow for warnings. Off when the output is not a terminal
// (a pipe, a file), when NO_COLOR is set (https://no-color.org) or TERM is dumb; forced
// on by FORCE_COLOR (other than 0).
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/** Whether to colour text written to `stream`. */
export function colorWanted(
  stream: { isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0';
  return !!stream.isTTY && env.TERM !== 'dumb';
}

export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

/** No colour: what formatters use unless told otherwise. */
export const plain: Colors = pc.createColors(false);
