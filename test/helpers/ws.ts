import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface TestSubscription<T = any> {
  /** Every result received so far, in order. */
  readonly results: Array<{ data?: T; errors?: Array<{ message: string; extensions?: Record<string, any> }> }>;
  /** Waits for the next result not yet taken. */
  next(timeoutMs?: number): Promise<{ data?: T; errors?: Array<{ message: string; extensions?: Record<string, any> }> }>;
  /** Waits until `count` results have arrived in total. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the server completes the stream (or rejects with the error). */
  readonly completed: Promise<void>;
  readonly isCompleted: () => boolean;
  unsubscribe(): void;
}

export interface TestWsClient {
  client: Client;
  /** Resolves with the close event code once the socket closes. */
  closed: Promise<number>;
  subscribe<T = any>(query: string, variables?: Record<string, unknown>): TestSubscription<T>;
  dispose(): Promise<void>;
}

const openClients = new Set<TestWsClient>();

/** A graphql-ws client the way apps use it; disposeAllWsClients() in afterAll closes leftovers. */
export function connectWs(wsUrl: string, token?: string | null, options: { connectionParams?: Record<string, unknown> } = {}): TestWsClient {
  let resolveClosed!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (resolveClosed = resolve));
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: options.connectionParams ?? (token ? { authorization: `Bearer ${token}` } : {}),
    on: { closed: (event) => resolveClosed((event as { code: number }).code) },
    onNonLazyError: () => undefined,
  });
  const testClient: TestWsClient = {
    client,
    closed,
    subscribe<T>(query: string, variables: Record<string, unknown> = {}) {
      const results: TestSubscription<T>['results'] = [];
      let taken = 0;
      let done = false;
      const waiters: Array<() => void> = [];
      const wake = () => waiters.splice(0).forEach((w) => w());
      let resolveCompleted!: () => void;
      let rejectCompleted!: (error: unknown) => void;
      const completed = new Promise<void>((resolve, reject) => {
        resolveCompleted = resolve;
        rejectCompleted = reject;
      });
      completed.catch(() => undefined);
      const unsubscribe = client.subscribe<T>(
        { query, variables },
        {
          next: (value) => {
            results.push(value as TestSubscription<T>['results'][number]);
            wake();
          },
          error: (error) => {
            done = true;
            // graphql-ws reports operation errors as an array of GraphQL errors.
            if (Array.isArray(error)) results.push({ errors: error as any });
            rejectCompleted(error);
            wake();
          },
          complete: () => {
            done = true;
            resolveCompleted();
            wake();
          },
        },
      );
      const waitUntil = async (predicate: () => boolean, timeoutMs: number, what: string) => {
        const deadline = Date.now() + timeoutMs;
        while (!predicate()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (have ${results.length} results${done ? ', stream ended' : ''})`);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
            waiters.push(() => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
      };
      return {
        results,
        async next(timeoutMs = 5000) {
          await waitUntil(() => results.length > taken, timeoutMs, 'the next result');
          return results[taken++];
        },
        waitFor: (count: number, timeoutMs = 5000) => waitUntil(() => results.length >= count, timeoutMs, `${count} results`),
        completed,
        isCompleted: () => done,
        unsubscribe,
      };
    },
    async dispose() {
      openClients.delete(testClient);
      await client.dispose();
    },
  };
  openClients.add(testClient);
  return testClient;
}

export async function disposeAllWsClients(): Promise<void> {
  await Promise.all([...openClients].map((c) => c.dispose()));
}

/** Sleeps without keeping jest alive longer than needed. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * graphql-ws's official client as an app configures it to reconnect (quickly here), with what
 * a test of a slow consumer needs: the close codes it saw, how often it connected, and a way
 * to stop and resume reading from its current socket.
 */
export function retryingClient(url: string, connectionParams: Record<string, unknown>) {
  const sockets: WebSocket[] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      sockets.push(this);
    }
  }
  const tcp = () => (sockets[sockets.length - 1] as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  const seen = { closes: [] as number[], connections: 0 };
  const client = createClient({
    url,
    webSocketImpl: RecordingWebSocket,
    connectionParams,
    retryAttempts: 5,
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 20)),
    on: { closed: (event) => seen.closes.push((event as { code: number }).code), connected: () => (seen.connections += 1) },
  });
  return {
    client,
    seen,
    /** Stops reading from the current socket: the server's unsent data grows. */
    pauseReading: () => tcp().pause(),
    resumeReading: () => tcp().resume(),
  };
}
