// The run watchdog's limit (docs/ARCHITECTURE.md section 6): RUN and INFER carry a cycle
// limit in units of 2^20 cycles; the device stops a run that reaches it and answers
// WATCHDOG. The limit is an upper bound of what the model's program can legitimately
// take on the controller (host/compiler/program.ts programCycleBound), doubled: a hang, or a program that is
// not this model's, is stopped within a few times the model's own run time.

export const LIMIT_UNIT_CYCLES = 2 ** 20;
/** The largest limit the u8 field holds; beyond it the run is not limited (0). */
export const MAX_LIMIT_UNITS = 255;

/** The limit field for a bound: twice the bound, in units of 2^20 cycles (0: none). */
export function limitUnits(boundCycles: number | null): number {
  if (boundCycles === null) return 0;
  const units = Math.ceil((2 * boundCycles) / LIMIT_UNIT_CYCLES);
  return units > MAX_LIMIT_UNITS ? 0 : Math.max(1, units);
}
