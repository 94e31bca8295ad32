/**
 * `fn` over `items`, at most `limit` at a time, results in the order of `items`. A rejection
 * rejects the whole, as Promise.all does (callers that go on past failures catch inside `fn`).
 * @example const sizes = await mapLimit(paths, 8, async (p) => (await stat(p)).size)
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}
