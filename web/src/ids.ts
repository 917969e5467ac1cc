/**
 * A clientMessageId: random, unique per composed message, reused by its retries.
 * crypto.randomUUID exists only in secure contexts (https, localhost); getRandomValues
 * everywhere, so a page opened over http://<LAN address> works too.
 */
export function newClientMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
