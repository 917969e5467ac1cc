import type http from 'node:http';

/** The client's address. X-Forwarded-For counts only behind a trusted proxy (TRUST_PROXY), since clients can forge it. */
export function clientIp(request: http.IncomingMessage, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = request.headers['x-forwarded-for'];
    // Bounded: a forged header must not fill the sessions and activity log with junk.
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().slice(0, 64);
    if (first) return first;
  }
  return request.socket?.remoteAddress ?? null;
}

export function headerValue(value: string | string[] | undefined): string | null {
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}
