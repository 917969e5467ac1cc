// Event payloads cross Redis as JSON. Dates are tagged so they come back as Dates,
// without guessing from string shapes (a message body may look like a date).

const DATE_TAG = '$date';

export function encodeEvent(payload: unknown): string {
  return JSON.stringify(payload, function replacer(this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    return raw instanceof Date ? { [DATE_TAG]: raw.toISOString() } : value;
  });
}

export function decodeEvent<T = unknown>(text: string | Buffer): T {
  return JSON.parse(typeof text === 'string' ? text : text.toString('utf8'), (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const tagged = value as Record<string, unknown>;
      if (typeof tagged[DATE_TAG] === 'string' && Object.keys(tagged).length === 1) return new Date(tagged[DATE_TAG] as string);
    }
    return value;
  }) as T;
}
