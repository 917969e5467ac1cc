import { types } from 'pg';

/** TIMESTAMPTZ's OID, and pg's own text parser of it (postgres-date). */
export const TIMESTAMPTZ_OID = 1184;
const parsePostgresDate = types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date | number | null;

const ZERO = 48;
/** Seconds in an offset's minutes and seconds fields, after its hours. */
const OFFSET_UNITS = [60, 1] as const;

/** Two ASCII digits at `at` as a number, or -1. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - ZERO;
  const ones = text.charCodeAt(at + 1) - ZERO;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1;
}

/**
 * A `timestamptz` as PostgreSQL writes it in text (DateStyle ISO): `2026-12-02 01:06:28.712345+00`,
 * the fraction optional, the offset `±HH[:MM[:SS]]`. Read by fixed positions into a Date, which
 * is what pg's own parser (postgres-date) returns, in under a third of its time: a history page
 * reads two per message. Anything else (years past 9999, BC, infinity) goes to postgres-date.
 * Ours because the parser pg ships is the general one; test/pg-timestamps.test.ts holds them equal.
 */
export function parseTimestamptz(text: string): Date | number | null {
  const length = text.length;
  if (length < 22 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 32 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) {
    return parsePostgresDate(text);
  }
  const century = twoDigits(text, 0);
  const yearOfCentury = twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hours = twoDigits(text, 11);
  const minutes = twoDigits(text, 14);
  const seconds = twoDigits(text, 17);
  if (century < 0 || yearOfCentury < 0 || month < 0 || day < 0 || hours < 0 || minutes < 0 || seconds < 0) return parsePostgresDate(text);
  let at = 19;
  let millis = 0;
  if (text.charCodeAt(at) === 46) {
    // Milliseconds from the fraction's first three digits (postgres-date drops the rest too).
    let scale = 100;
    at += 1;
    const start = at;
    for (let digit = text.charCodeAt(at) - ZERO; digit >= 0 && digit <= 9; digit = text.charCodeAt(at) - ZERO) {
      millis += digit * scale;
      scale /= 10;
      at += 1;
    }
    if (at === start) return parsePostgresDate(text);
    millis = Math.floor(millis);
  }
  const sign = text.charCodeAt(at) === 43 ? 1 : text.charCodeAt(at) === 45 ? -1 : 0;
  if (sign === 0) return parsePostgresDate(text);
  const offsetHours = twoDigits(text, at + 1);
  if (offsetHours < 0) return parsePostgresDate(text);
  let offsetSeconds = offsetHours * 3600;
  at += 3;
  for (const unit of OFFSET_UNITS) {
    if (at === length) break;
    const part = text.charCodeAt(at) === 58 ? twoDigits(text, at + 1) : -1;
    if (part < 0) return parsePostgresDate(text);
    offsetSeconds += part * unit;
    at += 3;
  }
  if (at !== length) return parsePostgresDate(text);
  const utc = Date.UTC(century * 100 + yearOfCentury, month - 1, day, hours, minutes, seconds, millis) - sign * offsetSeconds * 1000;
  // Date.UTC maps years 0-99 to 1900-1999; postgres-date gets those right.
  return century === 0 ? parsePostgresDate(text) : new Date(utc);
}
