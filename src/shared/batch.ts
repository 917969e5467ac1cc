import DataLoader from 'dataloader';

/**
 * A DataLoader shared by all requests of an instance, without a cache: lookups issued by
 * concurrent requests in the same turn of the event loop go to PostgreSQL as one statement,
 * and every lookup still reads the database (nothing is remembered between batches).
 * Batches are dispatched in the loop's check phase, after every request that arrived in
 * the same poll phase has asked.
 */
export function sharedBatchLoader<K, V>(batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>, maxBatchSize = 500): DataLoader<K, V> {
  return new DataLoader<K, V>(batch, { cache: false, maxBatchSize, batchScheduleFn: (dispatch) => setImmediate(dispatch) });
}
