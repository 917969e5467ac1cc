'use strict';
// Sizes and durations per mode. Quick mode only keeps the suite from rotting: small numbers,
// short phases, under a minute in all; its figures are rough.

const full = {
  connections: { sockets: 20_000, targetSockets: 20_000, generators: 4, connectConcurrency: 100, settleMs: 3000, probeTimeoutMs: 20_000 },
  subscribe: { connections: 32, generators: 2, rounds: 2, warmupMs: 500, durationMs: 8000 },
  fanout: {
    subscribers: 2000,
    generators: 4,
    startDeliveries: 10_000, // the first step's send rate is this / subscribers
    factor: 2,
    resolution: 1.25,
    maxSteps: 12,
    stepMs: 3000,
    halfMs: 5000,
    halfWarmupMs: 3000,
    graceMs: 2000,
    probeTimeoutMs: 20_000,
    drainMs: 60_000, // longest wait for a fallen-behind step's backlog before the next step
    maxInFlight: 64,
    rounds: 2, // alternating: chat-api, raw, chat-api, raw
  },
  // Rounds alternate with the baseline; more, shorter rounds pair both sides more closely on a host whose speed drifts within seconds.
  sends: { clients: 32, generators: 2, warmupMs: 8000, rounds: 3, durationMs: 4000 },
  reactions: { clients: 32, generators: 2, warmupMs: 2000, durationMs: 10_000, subscribers: 2000, probes: 9, probeTimeoutMs: 20_000 },
  request: { concurrency: 8, rounds: 4, warmupMs: 3000, durationMs: 3000 },
  history: { messages: 1_000_000, cursors: 5000, concurrency: 8, generators: 2, warmupMs: 6000, rounds: 4, durationMs: 3000 },
  threads: { messages: 1_000_000, replies: 10_000, cursors: 5000, concurrency: 8, generators: 2, warmupMs: 1000, durationMs: 8000 },
  attention: { members: 10_000, sendPairs: 20, notifications: 100_000, concurrency: 8, warmupMs: 1000, durationMs: 5000 },
  search: {
    messages: 1_000_000,
    channels: 200,
    memberOf: 20,
    words: 10_000,
    spanDays: 100,
    concurrency: 8,
    generators: 2,
    warmupMs: 1000,
    durationMs: 8000,
    sendClients: 32,
    sendWarmupMs: 2000,
    sendDurationMs: 8000,
    autocomplete: 100_000,
  },
};

const quick = {
  connections: { sockets: 500, targetSockets: 20_000, generators: 2, connectConcurrency: 100, settleMs: 500, probeTimeoutMs: 5000 },
  subscribe: { connections: 16, generators: 1, rounds: 1, warmupMs: 200, durationMs: 1000 },
  fanout: {
    subscribers: 200,
    generators: 2,
    startDeliveries: 10_000,
    factor: 3,
    resolution: 3,
    maxSteps: 3,
    stepMs: 600,
    halfMs: 600,
    halfWarmupMs: 300,
    graceMs: 500,
    probeTimeoutMs: 10_000,
    drainMs: 5000,
    maxInFlight: 64,
  },
  sends: { clients: 32, generators: 2, warmupMs: 300, rounds: 1, durationMs: 1500 },
  reactions: { clients: 32, generators: 2, warmupMs: 300, durationMs: 1500, subscribers: 200, probes: 2, probeTimeoutMs: 10_000 },
  request: { concurrency: 8, rounds: 1, warmupMs: 200, durationMs: 1000 },
  history: { messages: 20_000, cursors: 1000, concurrency: 8, generators: 1, warmupMs: 200, rounds: 1, durationMs: 1000 },
  threads: { messages: 20_000, replies: 2000, cursors: 1000, concurrency: 8, generators: 1, warmupMs: 200, durationMs: 1000 },
  attention: { members: 1000, sendPairs: 5, notifications: 10_000, concurrency: 4, warmupMs: 200, durationMs: 1000 },
  search: {
    messages: 2000,
    channels: 20,
    memberOf: 4,
    words: 10_000,
    spanDays: 30,
    concurrency: 8,
    generators: 1,
    warmupMs: 20,
    durationMs: 200,
    sendClients: 8,
    sendWarmupMs: 20,
    sendDurationMs: 200,
    autocomplete: 500,
  },
};

module.exports = { full, quick };
