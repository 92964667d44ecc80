/**
 * `f` called the first time only, its result kept: for a module imported when first needed, since each
 * `import()` of it, even once loaded, goes through the module loader again (a turn of the event loop, and
 * with a loader hook such as tsx a round trip to the hook's thread), which a wake's path cannot afford.
 */
export function once<T>(f: () => T): () => T {
  let result: { value: T } | undefined;
  return () => (result ??= { value: f() }).value;
}
