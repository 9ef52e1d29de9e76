// The run watchdog's limit field: twice the program's cycle bound in units of 2^20
// cycles, at least one unit, and 0 (no limit) when the bound is unknown or too large.
import { describe, expect, it } from 'vitest';
import { LIMIT_UNIT_CYCLES, limitUnits } from '../../host/link/runlimit.ts';

describe('run cycle limit', () => {
  it('is twice the bound, rounded up to units of 2^20 cycles, at least one', () => {
    expect(limitUnits(1)).toBe(1);
    expect(limitUnits(100_000)).toBe(1);
    expect(limitUnits(LIMIT_UNIT_CYCLES)).toBe(2);
    expect(limitUnits(LIMIT_UNIT_CYCLES + 1)).toBe(3);
  });
  it('is 0 (no limit) for an unknown bound or one past the u8 field', () => {
    expect(limitUnits(null)).toBe(0);
    expect(limitUnits(128 * LIMIT_UNIT_CYCLES)).toBe(0);
    expect(limitUnits(127 * LIMIT_UNIT_CYCLES)).toBe(254);
  });
});
