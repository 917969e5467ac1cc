import fc from 'fast-check';
import { dateTimeScalar, IsoDate, isoString } from '../src/shared/date-time';
import { decodeCachedMessage, encodeCachedMessage } from '../src/messages/recent-cache';

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

  test('a cached message decodes into Dates formatted once, which the scalar answers as they are', () => {
    const createdAt = new Date('2026-12-02T01:06:28.712Z');
    const editedAt = new Date(Date.UTC(2026, 11, 2, 7, 0, 0, 5));
    const text = encodeCachedMessage({ id: 'm', channelId: 'c', seq: 1, authorId: 'a', body: 'hi', createdAt, editedAt, deleted: false, upvotes: 0, downvotes: 0, threadRootId: null, version: 0 });
    const decoded = decodeCachedMessage(text);
    expect(decoded.createdAt).toBeInstanceOf(IsoDate);
    expect((decoded.createdAt as IsoDate).iso).toBe('2026-12-02T01:06:28.712Z');
    expect(decoded.createdAt.getTime()).toBe(createdAt.getTime());
    expect((decoded.editedAt as IsoDate).iso).toBe('2026-12-02T07:00:00.005Z');
    const scalar = dateTimeScalar();
    // The scalar answers the kept text: a Date whose text says otherwise is answered by its text.
    const kept = new IsoDate('2026-12-02T01:06:28.712Z');
    Object.defineProperty(kept, 'iso', { value: 'kept' });
    expect(scalar.serialize(kept)).toBe('kept');
    // Any text the Date parses is kept in toISOString's form; an invalid one is still refused.
    expect(new IsoDate('2026-12-02T02:06:28.712+01:00').iso).toBe('2026-12-02T01:06:28.712Z');
    fc.assert(fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => new IsoDate(new Date(ms).toISOString()).iso === new Date(ms).toISOString()), { numRuns: 2_000 });
    expect(() => scalar.serialize(new IsoDate('not a date'))).toThrow(/invalid Date/);
  });
});
