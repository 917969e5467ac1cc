// Unit tests of the search query parser (src/search/search.parser.ts): pure, no I/O.
import fc from 'fast-check';
import { BadUserInputError } from '../src/shared/errors';
import { MAX_QUERY_LENGTH, parseDay, parseSearch, websearchText } from '../src/search/search.parser';

const day = (text: string) => new Date(`${text}T00:00:00.000Z`);

function expectBadQuery(query: string, message?: RegExp): void {
  let caught: unknown;
  try {
    parseSearch(query);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(BadUserInputError);
  expect((caught as BadUserInputError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'query' });
  if (message) expect((caught as Error).message).toMatch(message);
}

describe('search parser', () => {
  it('reads words, quoted phrases and exclusions', () => {
    expect(parseSearch('release  "next week" -draft -"old plan"').terms).toEqual([
      { text: 'release', phrase: false, exclude: false },
      { text: 'next week', phrase: true, exclude: false },
      { text: 'draft', phrase: false, exclude: true },
      { text: 'old plan', phrase: true, exclude: true },
    ]);
  });

  it('runs an unclosed quote to the end and drops empty phrases and lone dashes', () => {
    expect(parseSearch('hello "open phrase').terms).toEqual([
      { text: 'hello', phrase: false, exclude: false },
      { text: 'open phrase', phrase: true, exclude: false },
    ]);
    expect(parseSearch('a "" - b').terms.map((t) => t.text)).toEqual(['a', 'b']);
  });

  it('reads from: and in: (quoted names with spaces too), case-insensitively, lowercased', () => {
    const parsed = parseSearch('FROM:Ana In:"Release Planning" deploy');
    expect(parsed.from).toBe('ana');
    expect(parsed.in).toBe('release planning');
    expect(parsed.terms).toEqual([{ text: 'deploy', phrase: false, exclude: false }]);
    expect(parseSearch('in:general').in).toBe('general');
  });

  it('turns before:/after:/on: into a half-open UTC range', () => {
    expect(parseSearch('before:2026-03-10')).toMatchObject({ since: null, until: day('2026-03-10') });
    expect(parseSearch('after:2026-03-10')).toMatchObject({ since: day('2026-03-11'), until: null });
    expect(parseSearch('on:2026-03-10')).toMatchObject({ since: day('2026-03-10'), until: day('2026-03-11') });
    // Combined: the narrowest bounds win.
    expect(parseSearch('after:2026-03-01 after:2026-03-04 before:2026-03-20 before:2026-03-09')).toMatchObject({
      since: day('2026-03-05'),
      until: day('2026-03-09'),
      impossible: false,
    });
  });

  it('marks contradictory operators impossible (nothing can match) rather than failing', () => {
    expect(parseSearch('from:ana from:bob').impossible).toBe(true);
    expect(parseSearch('from:ana from:ANA').impossible).toBe(false);
    expect(parseSearch('in:a in:b').impossible).toBe(true);
    expect(parseSearch('on:2026-01-01 on:2026-01-02').impossible).toBe(true);
    expect(parseSearch('after:2026-01-02 before:2026-01-02').impossible).toBe(true);
  });

  it('treats unknown operators, operators without a value and negated operators as plain words', () => {
    expect(parseSearch('foo:bar').terms).toEqual([{ text: 'foo:bar', phrase: false, exclude: false }]);
    expect(parseSearch('from: x')).toMatchObject({ from: null, terms: [{ text: 'from:' }, { text: 'x' }] });
    expect(parseSearch('-from:ana')).toMatchObject({ from: null, terms: [{ text: 'from:ana', exclude: true }] });
  });

  it('lets a query of operators only through (it lists what they allow)', () => {
    expect(parseSearch('from:ana')).toMatchObject({ terms: [], from: 'ana' });
  });

  it('rejects empty, blank, over-long and NUL queries and malformed dates with field "query"', () => {
    expectBadQuery('', /empty/);
    expectBadQuery('   \n\t', /empty/);
    expectBadQuery('x'.repeat(MAX_QUERY_LENGTH + 1), /500/);
    expectBadQuery('a\u0000b', /NUL/);
    expectBadQuery('before:yesterday', /YYYY-MM-DD/);
    expectBadQuery('on:2026-02-30', /YYYY-MM-DD/);
    expectBadQuery('after:2026-1-5', /YYYY-MM-DD/);
    expectBadQuery('""', /word, a phrase or an operator/);
    expectBadQuery('- "" -', /word, a phrase or an operator/);
    expect(() => parseSearch('x'.repeat(MAX_QUERY_LENGTH))).not.toThrow();
  });

  it('checks calendar dates', () => {
    expect(parseDay('2024-02-29')).toEqual(day('2024-02-29'));
    expect(parseDay('2023-02-29')).toBeNull();
    expect(parseDay('2026-13-01')).toBeNull();
    expect(parseDay('20260101')).toBeNull();
  });

  it('quotes every term for websearch_to_tsquery, so nothing typed is read as its syntax', () => {
    expect(websearchText([])).toBeNull();
    const parsed = parseSearch('cats or dogs -"bad idea" &|!():*');
    expect(websearchText(parsed.terms)).toBe('"cats" "or" "dogs" -"bad idea" "&|!():*"');
  });

  it('never throws anything but BAD_USER_INPUT on field "query", and yields a bounded shape', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 600 }), fc.stringMatching(/^[-"a-z:0-9 &|!():*]{0,120}$/)), (query) => {
        try {
          const parsed = parseSearch(query);
          expect(parsed.terms.length).toBeLessThanOrEqual(MAX_QUERY_LENGTH);
          const text = websearchText(parsed.terms);
          if (text !== null) expect(text.length).toBeLessThanOrEqual(3 * MAX_QUERY_LENGTH + 4);
        } catch (error) {
          expect(error).toBeInstanceOf(BadUserInputError);
          expect((error as BadUserInputError).extensions.field).toBe('query');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
