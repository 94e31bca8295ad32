/**
 * `fn` over `items`, at most `limit` at a time, results in the order of `items`. On a failure no
 * new item is started, and the first error is thrown once those under way have ended: nothing is
 * still running when the caller hears of it.
 * @example const sizes = await mapLimit(paths, 8, async (p) => (await stat(p)).size)
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
