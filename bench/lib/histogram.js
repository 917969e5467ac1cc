'use strict';
// A log-bucketed latency histogram (about 1% resolution from 1 µs to ~10 min) that
// generator processes fill and the runner merges: plain arrays survive IPC.

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const MIN_MS = 0.001;
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / LOG_GROWTH) + 1;

class Histogram {
  constructor() {
    this.counts = new Map(); // bucket -> count (sparse: latencies cluster in few buckets)
    this.total = 0;
    this.sum = 0;
    this.max = 0;
  }

  /** Records one latency in milliseconds. */
  record(ms) {
    const value = ms > MIN_MS ? ms : MIN_MS;
    const bucket = Math.min(BUCKETS - 1, Math.floor(Math.log(value / MIN_MS) / LOG_GROWTH));
    this.counts.set(bucket, (this.counts.get(bucket) || 0) + 1);
    this.total += 1;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** The latency below which a fraction q (0..1) of the samples lie, in ms (bucket midpoint). */
  percentile(q) {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    const buckets = [...this.counts.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const bucket of buckets) {
      seen += this.counts.get(bucket);
      if (seen >= rank) return Math.min(this.max, MIN_MS * GROWTH ** (bucket + 0.5));
    }
    return this.max;
  }

  mean() {
    return this.total === 0 ? null : this.sum / this.total;
  }

  merge(other) {
    const data = other instanceof Histogram ? other.toJSON() : other;
    for (const [bucket, count] of data.counts) this.counts.set(bucket, (this.counts.get(bucket) || 0) + count);
    this.total += data.total;
    this.sum += data.sum;
    if (data.max > this.max) this.max = data.max;
    return this;
  }

  toJSON() {
    return { counts: [...this.counts.entries()], total: this.total, sum: this.sum, max: this.max };
  }

  static from(data) {
    return new Histogram().merge(data);
  }

  static mergeAll(list) {
    const merged = new Histogram();
    for (const data of list) merged.merge(data);
    return merged;
  }

  summary() {
    return { count: this.total, p50: this.percentile(0.5), p99: this.percentile(0.99), mean: this.mean(), max: this.total ? this.max : null };
  }
}

module.exports = { Histogram };
