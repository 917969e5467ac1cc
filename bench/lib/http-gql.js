'use strict';
// A small keep-alive GraphQL-over-HTTP client (node:http, no fetch overhead) for the runner
// and the generators.
const http = require('node:http');

function createClient(url, { maxSockets = 64, timeoutMs = 30_000 } = {}) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets });

  /** POSTs `body` (an object or a prepared JSON string); resolves with { status, json }. */
  function post(body, token) {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    if (token) headers.authorization = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json = null;
            try {
              json = JSON.parse(text);
            } catch {
              // not JSON: reported by the caller through status/json
            }
            resolve({ status: res.statusCode, json, text });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`HTTP request timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Runs an operation and returns `data`; throws with the first error message otherwise. */
  async function request(query, variables, token) {
    const { status, json, text } = await post({ query, variables }, token);
    if (!json) throw new Error(`HTTP ${status}: ${text.slice(0, 200)}`);
    if (json.errors && json.errors.length > 0) {
      const [first] = json.errors;
      const error = new Error(`${first.message} (${first.extensions && first.extensions.code})`);
      error.code = first.extensions && first.extensions.code;
      throw error;
    }
    return json.data;
  }

  return { post, request, close: () => agent.destroy() };
}

module.exports = { createClient };
