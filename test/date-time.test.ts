import fc from 'fast-check';
import { dateTimeScalar, isoString } from '../src/shared/date-time';

describe('DateTime', () => {
  test('isoString is Date#toISOString for every representable instant', () => {
    const edges = [0, -1, 1, 951_782_400_000, 951_868_800_000, 4_107_542_400_000, 253_402_300_799_999, 253_402_300_800_000, -62_135_596_800_000, 8.64e15, -8.64e15];
    for (const ms of edges) expect([ms, isoString(new Date(ms))]).toEqual([ms, new Date(ms).toISOString()]);
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => isoString(new Date(ms)) === new Date(ms).toISOString()),
      { numRuns: 20_000 },
    );
    // Dense where answers live: every millisecond field, day and leap year of 1970..2400.
    fc.assert(fc.property(fc.integer({ min: 0, max: 13_569_465_600_000 }), (ms) => isoString(new Date(ms)) === new Date(ms).toISOString()), { numRuns: 20_000 });
  });

  test('the scalar answers strings (not Dates for JSON.stringify to format), and keeps refusing invalid dates', () => {
    const scalar = dateTimeScalar();
    const when = new Date('2026-12-02T01:06:28.712Z');
    expect(scalar.serialize(when)).toBe('2026-12-02T01:06:28.712Z');
    expect(scalar.serialize('2026-12-02T01:06:28.712Z')).toBe('2026-12-02T01:06:28.712Z');
    expect(scalar.name).toBe('DateTime');
    expect(() => scalar.serialize(new Date(Number.NaN))).toThrow(/invalid Date/);
    expect(() => scalar.serialize({})).toThrow();
    expect(scalar.parseValue('2026-12-02T01:06:28.712Z')).toEqual(when);
  });
});
