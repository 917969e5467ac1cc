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

/**
 * Requests Node's parser refuses before any handler runs (headers over 16 KiB, a malformed
 * request line) are answered like every other bad request: a GraphQL error body with a code,
 * where Node's default writes a bare status line a client cannot tell apart from a crash.
 */
export function answerUnparsableRequests(server: http.Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') return void socket.destroy();
    const [status, reason, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'Request headers too large (16 KiB at most).']
        : [400, 'Bad Request', 'Malformed HTTP request.'];
    const body = JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
