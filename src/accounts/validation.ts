import { BadUserInputError } from '../shared/errors';
import { checkText, isBlankText } from '../shared/text';

// The account input rules, checked in the service so each failure names its field.

export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;
export const DISPLAY_NAME_MAX_LENGTH = 64;
export const BIO_MAX_LENGTH = 500;
const EMAIL_MAX_LENGTH = 254;
/** One @, no spaces or control characters, a dot in the domain: the practical subset of RFC 5322 people type. */
const EMAIL_PATTERN = /^[^\s@"<>()[\]\\,;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
/** Control characters, and the invisible direction overrides and line separators used for spoofing. */
const CONTROL_CHARACTERS = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

export function hasControlCharacters(value: string): boolean {
  return CONTROL_CHARACTERS.test(value);
}

function length(value: string): number {
  return [...value].length;
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new BadUserInputError(field, `${field} is required.`);
  return value;
}

/** Trimmed, lowercased email; BAD_USER_INPUT on `email` otherwise. */
export function normalizeEmail(value: unknown): string {
  const email = requireString(value, 'email').trim().toLowerCase();
  if (email.length === 0 || email.length > EMAIL_MAX_LENGTH || !EMAIL_PATTERN.test(email) || CONTROL_CHARACTERS.test(email)) {
    throw new BadUserInputError('email', 'Enter a valid email address.');
  }
  return email;
}

export function validateUsername(value: unknown): string {
  const username = requireString(value, 'username');
  if (!USERNAME_PATTERN.test(username)) {
    throw new BadUserInputError('username', 'Username must be 3-32 characters: letters, digits, underscore, dot or hyphen.');
  }
  return username;
}

export function usernameKey(username: string): string {
  return username.toLowerCase();
}

/** Length bounds, and not the username or email (compared case-insensitively). */
export function validatePassword(value: unknown, field: string, identity: { username: string; email: string }): string {
  const password = requireString(value, field);
  const size = length(password);
  if (size < PASSWORD_MIN_LENGTH || size > PASSWORD_MAX_LENGTH) {
    throw new BadUserInputError(field, `Password must be ${PASSWORD_MIN_LENGTH}-${PASSWORD_MAX_LENGTH} characters.`);
  }
  const lowered = password.toLowerCase();
  if (lowered === identity.username.toLowerCase() || lowered === identity.email.toLowerCase()) {
    throw new BadUserInputError(field, 'Password must not be your username or email.');
  }
  return password;
}

/** Trimmed display name, at most 64 characters, not blank, no control characters. */
export function validateDisplayName(value: unknown): string {
  const displayName = requireString(value, 'displayName').trim();
  if (isBlankText(displayName)) throw new BadUserInputError('displayName', 'Display name must not be blank.');
  if (length(displayName) > DISPLAY_NAME_MAX_LENGTH) {
    throw new BadUserInputError('displayName', `Display name must be at most ${DISPLAY_NAME_MAX_LENGTH} characters.`);
  }
  checkText(displayName, 'displayName', 'Display name', { multiline: false });
  return displayName;
}

/** Trimmed bio, at most 500 characters; blank clears it (null). */
export function validateBio(value: unknown): string | null {
  const bio = requireString(value, 'bio').trim();
  if (bio.length === 0) return null;
  if (isBlankText(bio)) throw new BadUserInputError('bio', 'Bio must show something: not only invisible characters.');
  if (length(bio) > BIO_MAX_LENGTH) throw new BadUserInputError('bio', `Bio must be at most ${BIO_MAX_LENGTH} characters.`);
  checkText(bio, 'bio', 'Bio', { multiline: true });
  return bio;
}
