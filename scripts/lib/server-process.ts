import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The compiled server's entry point (dist/src/main.js), from src or dist alike. */
export const COMPILED_MAIN = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../src/main.js' : '../../dist/src/main.js');

export interface ServerProcess {
  child: ChildProcess;
  /** Everything the server printed so far (until discardOutput). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until the log matches, failing early when the server exits. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Waits for the startup line and returns the GraphQL URL it announces. */
  ready(timeoutMs?: number): Promise<string>;
  /** Stops keeping the log (long runs), still draining the pipes. */
  discardOutput(): void;
}

/** The compiled server as a child process, the way `npm start` runs it (tests, soak). */
export function spawnServer(env: Record<string, string>, main = COMPILED_MAIN): ServerProcess {
  const child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let keep = true;
  const collect = (chunk: Buffer) => {
    if (keep) output += chunk.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const waitForLog = async (pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = output.match(pattern);
      if (match) return match;
      if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  return {
    child,
    output: () => output,
    exited,
    waitForLog,
    // The GraphQL endpoint from the ready line's `url` field (its message names the web client's page when that is served).
    ready: async (timeoutMs) => (await waitForLog(/"url":"(http:\/\/[^"]+\/graphql)"[^\n]*"msg":"ready: open /, timeoutMs))[1],
    discardOutput: () => {
      keep = false;
      output = '';
    },
  };
}
