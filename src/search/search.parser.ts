// The search query language (docs/search.md), parsed without any I/O:
//   words, "quoted phrases", -excluded words or -"phrases", and the operators
//   from:<username>, in:<channel> (in:"name with spaces"), before:/after:/on:<YYYY-MM-DD> (UTC).
// An unknown `foo:bar` is a plain word. Operators combine with AND, so repeats collapse here:
// two different `from:` users (or `in:` channels, or `on:` days) can never both hold, and the
// dates become one half-open range [since, until). Whatever the input, the result is a small
// fixed shape, so no input can make the SQL that runs it bigger or slower.
import { BadUserInputError } from '../shared/errors';

export const MAX_QUERY_LENGTH = 500;

export interface SearchTerm {
  /** The text of a word or a phrase (without quotes). */
  text: string;
  phrase: boolean;
  exclude: boolean;
}

export interface ParsedSearch {
  terms: SearchTerm[];
  /** The username of `from:`, lowercased; null without one. */
  from: string | null;
  /** The channel name of `in:`, lowercased; null without one. */
  in: string | null;
  /** Sent at or after this instant (from `after:` and `on:`). */
  since: Date | null;
  /** Sent before this instant (from `before:` and `on:`). */
  until: Date | null;
  /** The operators contradict each other (two authors, two channels, an empty date range): nothing matches. */
  impossible: boolean;
}

const OPERATOR = /^(from|in|before|after|on):/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Midnight UTC starting the day, or null when `text` is not a real YYYY-MM-DD date. */
export function parseDay(text: string): Date | null {
  const match = DATE.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2026-02-30 over to March: only a round trip proves the date exists.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date;
}

const isSpace = (char: string) => /\s/.test(char);

/** Splits the input into raw tokens: bare runs, quoted runs (an open quote runs to the end), each with its leading `-`. */
class Scanner {
  private index = 0;

  constructor(private readonly text: string) {}

  done(): boolean {
    while (this.index < this.text.length && isSpace(this.text[this.index])) this.index += 1;
    return this.index >= this.text.length;
  }

  peek(): string {
    return this.text[this.index] ?? '';
  }

  skip(): void {
    this.index += 1;
  }

  /** Up to the closing quote (consumed), or to the end when there is none. */
  quoted(): string {
    this.index += 1; // the opening quote
    const close = this.text.indexOf('"', this.index);
    const end = close === -1 ? this.text.length : close;
    const value = this.text.slice(this.index, end);
    this.index = close === -1 ? end : close + 1;
    return value;
  }

  /** Up to whitespace or a quote. */
  bare(): string {
    const start = this.index;
    while (this.index < this.text.length && !isSpace(this.text[this.index]) && this.text[this.index] !== '"') this.index += 1;
    return this.text.slice(start, this.index);
  }
}

/** Throws BAD_USER_INPUT (field `query`) for an empty query, one over 500 characters, NUL, or a malformed date. */
export function parseSearch(query: string): ParsedSearch {
  if (typeof query !== 'string' || query.trim().length === 0) throw new BadUserInputError('query', 'query must not be empty.');
  if (query.length > MAX_QUERY_LENGTH) throw new BadUserInputError('query', `query must be at most ${MAX_QUERY_LENGTH} characters.`);
  if (query.includes('\u0000')) throw new BadUserInputError('query', 'query must not contain NUL characters.');

  const result: ParsedSearch = { terms: [], from: null, in: null, since: null, until: null, impossible: false };
  const authors = new Set<string>();
  const channels = new Set<string>();
  const scanner = new Scanner(query);
  while (!scanner.done()) {
    let exclude = false;
    if (scanner.peek() === '-') {
      exclude = true;
      scanner.skip();
    }
    if (scanner.peek() === '"') {
      addTerm(result, scanner.quoted(), true, exclude);
      continue;
    }
    const word = scanner.bare();
    const operator = exclude ? null : OPERATOR.exec(word);
    if (!operator) {
      addTerm(result, word, false, exclude);
      continue;
    }
    const name = operator[1].toLowerCase();
    let value = word.slice(operator[0].length);
    if (value === '' && scanner.peek() === '"') value = scanner.quoted();
    if (value.trim() === '') {
      // `from:` with nothing after it: a word like any other.
      addTerm(result, word, false, false);
      continue;
    }
    if (name === 'from') authors.add(value.trim().toLowerCase());
    else if (name === 'in') channels.add(value.trim().toLowerCase());
    else applyDate(result, name, value);
  }
  if (authors.size > 1 || channels.size > 1) result.impossible = true;
  result.from = authors.size > 0 ? [...authors][0] : null;
  result.in = channels.size > 0 ? [...channels][0] : null;
  if (result.since && result.until && result.since.getTime() >= result.until.getTime()) result.impossible = true;
  if (result.terms.length === 0 && result.from === null && result.in === null && result.since === null && result.until === null) {
    // Only stray quotes or dashes: nothing to search for.
    throw new BadUserInputError('query', 'query must contain a word, a phrase or an operator.');
  }
  return result;
}

function addTerm(result: ParsedSearch, raw: string, phrase: boolean, exclude: boolean): void {
  const text = raw.trim();
  if (text.length > 0) result.terms.push({ text, phrase, exclude });
}

function applyDate(result: ParsedSearch, name: string, value: string): void {
  const day = parseDay(value);
  if (!day) throw new BadUserInputError('query', `${name}: needs a date as YYYY-MM-DD, got "${value.slice(0, 20)}".`);
  const next = new Date(day.getTime() + DAY_MS);
  // before: sent before the day began; after: sent after it ended; on: during it.
  const since = name === 'before' ? null : name === 'after' ? next : day;
  const until = name === 'after' ? null : name === 'before' ? day : next;
  if (since && (!result.since || since > result.since)) result.since = since;
  if (until && (!result.until || until < result.until)) result.until = until;
}

/**
 * The words, phrases and exclusions as websearch_to_tsquery input: every term quoted, so
 * nothing the user typed (`or`, `&|!():*`, stray dashes) is read as syntax; websearch_to_tsquery
 * then stems each (English) and drops stop words. Null when there are no terms.
 */
export function websearchText(terms: readonly SearchTerm[]): string | null {
  if (terms.length === 0) return null;
  return terms.map((term) => `${term.exclude ? '-' : ''}"${term.text.replace(/"/g, ' ')}"`).join(' ');
}
