import DataLoader from 'dataloader';

/**
 * A DataLoader shared by all requests of an instance, without a cache: lookups issued by
 * concurrent requests in the same turn of the event loop go to PostgreSQL as one statement,
 * and every lookup still reads the database (nothing is remembered between batches).
 * Batches are dispatched in the loop's check phase, after every request that arrived in
 * the same poll phase has asked. Keys asked for more than once in a batch are looked up
 * once, and their callers share the answer (which they must not change).
 */
export function sharedBatchLoader<K, V>(batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>, maxBatchSize = 500): DataLoader<K, V> {
  const deduplicated = async (keys: readonly K[]): Promise<ArrayLike<V | Error>> => {
    const unique = [...new Set(keys)];
    if (unique.length === keys.length) return batch(keys);
    const values = await batch(unique);
    const byKey = new Map(unique.map((key, index) => [key, values[index]]));
    return keys.map((key) => byKey.get(key) as V | Error);
  };
  return new DataLoader<K, V>(deduplicated, { cache: false, maxBatchSize, batchScheduleFn: (dispatch) => setImmediate(dispatch) });
}
