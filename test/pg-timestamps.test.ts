import fc from 'fast-check';
import { types } from 'pg';
import { parseTimestamptz, TIMESTAMPTZ_OID } from '../src/shared/pg-timestamps';

const postgresDate = types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date | number | null;

/** What both parsers return, comparable. */
const valueOf = (parsed: Date | number | null) => (parsed instanceof Date ? `date ${parsed.getTime()}` : `other ${String(parsed)}`);

const two = (n: number) => String(n).padStart(2, '0');

/** timestamptz text as PostgreSQL writes it, with the odd corners it allows. */
const timestamptzText = fc
  .record({
    year: fc.integer({ min: 1, max: 12_000 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 31 }),
    hours: fc.integer({ min: 0, max: 23 }),
    minutes: fc.integer({ min: 0, max: 59 }),
    seconds: fc.integer({ min: 0, max: 59 }),
    fraction: fc.option(fc.stringMatching(/^[0-9]{1,6}$/), { nil: null }),
    sign: fc.constantFrom('+', '-'),
    offsetHours: fc.integer({ min: 0, max: 15 }),
    offsetMinutes: fc.option(fc.constantFrom(0, 30, 45), { nil: null }),
    offsetSeconds: fc.option(fc.integer({ min: 0, max: 59 }), { nil: null }),
    bc: fc.boolean(),
  })
  .map(({ year, month, day, hours, minutes, seconds, fraction, sign, offsetHours, offsetMinutes, offsetSeconds, bc }) => {
    const offset = `${sign}${two(offsetHours)}${offsetMinutes === null ? '' : `:${two(offsetMinutes)}${offsetSeconds === null ? '' : `:${two(offsetSeconds)}`}`}`;
    return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)} ${two(hours)}:${two(minutes)}:${two(seconds)}${fraction === null ? '' : `.${fraction}`}${offset}${bc ? ' BC' : ''}`;
  });

describe('timestamptz from PostgreSQL', () => {
  test('parses exactly as pg\'s own parser, on the values PostgreSQL writes and on malformed ones', () => {
    for (const text of ['2026-12-02 01:06:28.712345+00', '2026-12-02 01:06:28+00', '1999-01-08 04:05:06-08', '2026-03-01 00:00:00.5+05:30', '1969-12-31 23:59:59.999+00', '0044-03-15 12:00:00+00 BC', '0099-01-01 00:00:00+00', 'infinity', '-infinity', '12026-01-01 00:00:00+00', '2026-12-02 01:06:28.+00', '2026-12-02 01:06:28+0', '2026-12-02T01:06:28+00', '2026-12-02 01:06:28.123+x1']) {
      expect([text, valueOf(parseTimestamptz(text))]).toEqual([text, valueOf(postgresDate(text))]);
    }
    fc.assert(fc.property(timestamptzText, (text) => valueOf(parseTimestamptz(text)) === valueOf(postgresDate(text))), { numRuns: 20_000 });
    fc.assert(fc.property(fc.string({ minLength: 20, maxLength: 34 }), (text) => valueOf(parseTimestamptz(text)) === valueOf(postgresDate(text))), { numRuns: 5_000 });
  });
});
