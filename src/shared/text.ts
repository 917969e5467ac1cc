import { BadUserInputError } from './errors';

// The one policy for user-visible free text: message bodies, channel descriptions, display
// names and bios (docs/limits.md, "Text"). Identifiers with their own patterns (usernames,
// channel names) are stricter still.
//
// - Direction overrides, embeddings and isolates (U+202A-U+202E, U+2066-U+2069) are refused:
//   they reorder what follows them ("txt.exe" shown as "exe.txt") and are what spoofing uses.
//   The right-to-left and left-to-right marks (U+200F, U+200E, U+061C) stay: right-to-left text
//   needs them and they reorder nothing beyond themselves.
// - Control characters (Unicode Cc, with NUL, which PostgreSQL text cannot hold) and the line
//   and paragraph separators are refused; multi-line fields allow line feed, carriage return and tab.
// - A value must show something: only whitespace, format characters (zero-width space, joiners,
//   marks, BOM), fillers and lone combining marks counts as blank.

const DIRECTION_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/u;
const CONTROLS = /[\p{Cc}\u2028\u2029]/u;
const MULTILINE_ALLOWED = /[\n\r\t]/g;
/** Characters that show nothing on their own. */
const INVISIBLE = /[\s\p{Z}\p{Cf}\p{Cc}\p{M}\u115F\u1160\u3164\uFFA0\u2800]/gu;

export interface TextRule {
  /** Line breaks and tabs allowed (bodies, descriptions, bios). */
  multiline: boolean;
}

/** Whether the text shows nothing: empty, or only whitespace and invisible characters. */
export function isBlankText(value: string): boolean {
  return value.replace(INVISIBLE, '').length === 0;
}

/** Refuses what the policy refuses, naming `field`; `label` starts the message ("Display name"). */
export function checkText(value: string, field: string, label: string, rule: TextRule): void {
  if (DIRECTION_CONTROLS.test(value)) throw new BadUserInputError(field, `${label} must not contain direction override characters.`);
  const controls = rule.multiline ? value.replace(MULTILINE_ALLOWED, '') : value;
  if (CONTROLS.test(controls)) throw new BadUserInputError(field, `${label} must not contain control characters.`);
}
