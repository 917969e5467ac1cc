// The mention syntax is ours (the app's username alphabet, @channel and @here, and the rule
// that tells mentions from e-mail addresses), so it is a small hand-written scanner.

/** At most this many distinct names of one message are looked up (a body is at most 4000 characters). */
export const MAX_NAMED_MENTIONS = 100;

/** One `@name` as written: the usernames (lowercase keys) it may stand for, the longest first. */
export interface NamedMention {
  /** Position among the message's distinct named mentions, from 0 (order of first mention). */
  ord: number;
  keys: string[];
}

export interface ParsedMentions {
  named: NamedMention[];
  /** `@channel`: every member. */
  channel: boolean;
  /** `@here`: the members online when it is sent. */
  here: boolean;
}

/** Characters of a username (accounts/validation.ts USERNAME_PATTERN). */
const NAME_CHAR = /[A-Za-z0-9_.-]/;
/** A `@` right after one of these belongs to an e-mail address (`a@b.com`), not a mention. */
const ADDRESS_CHAR = /[A-Za-z0-9_.+-]/;
const USERNAME = /^[a-z0-9_.-]{3,32}$/;

export const NO_MENTIONS: ParsedMentions = Object.freeze({ named: [], channel: false, here: false }) as ParsedMentions;

/**
 * The mentions of a message body. `@name` counts where the `@` starts the text or follows a
 * character that cannot end an e-mail address's local part; the name runs over username
 * characters, and any other character (punctuation, space) ends it. Sentence punctuation
 * that usernames may also contain (`.` and `-`) is tried both ways: `@bob.` stands for the
 * user `bob.` when one exists, else for `bob`.
 */
export function parseMentions(body: string): ParsedMentions {
  if (!body.includes('@')) return NO_MENTIONS;
  const named: NamedMention[] = [];
  const seen = new Set<string>();
  let channel = false;
  let here = false;
  for (let at = body.indexOf('@'); at !== -1; at = body.indexOf('@', at + 1)) {
    if (at > 0 && ADDRESS_CHAR.test(body[at - 1])) continue;
    let end = at + 1;
    while (end < body.length && NAME_CHAR.test(body[end])) end += 1;
    const token = body.slice(at + 1, end).toLowerCase();
    // `@bob@example.com`: the name runs into an address; not a mention.
    if (body[end] === '@') continue;
    const trimmed = token.replace(/[.-]+$/, '');
    if (trimmed === 'channel' || trimmed === 'here') {
      if (trimmed === 'channel') channel = true;
      else here = true;
      continue;
    }
    const keys = [...new Set([token, trimmed])].filter((key) => USERNAME.test(key));
    if (keys.length === 0 || seen.has(keys[0]) || named.length >= MAX_NAMED_MENTIONS) continue;
    for (const key of keys) seen.add(key);
    named.push({ ord: named.length, keys });
  }
  return named.length === 0 && !channel && !here ? NO_MENTIONS : { named, channel, here };
}

export function hasMentions(parsed: ParsedMentions): boolean {
  return parsed.named.length > 0 || parsed.channel || parsed.here;
}
