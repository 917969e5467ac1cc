'use strict';
// Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on
// one machine: every process derives it from the same system clock at start-up.
const { performance } = require('node:perf_hooks');

const origin = performance.timeOrigin;

/** Milliseconds since the epoch, fractional. */
function now() {
  return origin + performance.now();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

module.exports = { now, sleep };
