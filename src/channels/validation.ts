import { BadUserInputError } from '../shared/errors';
import { checkText, isBlankText } from '../shared/text';

// The channel input rules, checked in the service so each failure names its field.

export const CHANNEL_NAME_PATTERN = /^[a-z0-9_-]{1,64}$/;
export const MAX_DESCRIPTION_LENGTH = 500;

/** Trims and lowercases, then validates: 1-64 of a-z, 0-9, `-`, `_`. */
export function normalizeChannelName(input: unknown): string {
  const name = typeof input === 'string' ? input.trim().toLowerCase() : '';
  if (!CHANNEL_NAME_PATTERN.test(name)) {
    throw new BadUserInputError('name', 'A channel name is 1-64 characters: lowercase letters, digits, "-" and "_".');
  }
  return name;
}

/** Trimmed; empty means none. At most 500 characters. */
export function normalizeDescription(input: string | null | undefined): string | null {
  if (input === null || input === undefined) return null;
  const description = input.trim();
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw new BadUserInputError('description', `A description is at most ${MAX_DESCRIPTION_LENGTH} characters.`);
  }
  if (description.length === 0) return null;
  checkText(description, 'description', 'A description', { multiline: true });
  if (isBlankText(description)) throw new BadUserInputError('description', 'A description must show something: not only invisible characters.');
  return description;
}
