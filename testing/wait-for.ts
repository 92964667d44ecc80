/**
 * The one polling helper of the tests and benchmarks: asks `probe` every `every` ms until it answers (a
 * truthy value, or one `until` accepts) and returns that answer. A test waits on what it can observe, never
 * on a fixed sleep; when the wait fails, the error says what was awaited and what was last seen.
 */

export interface WaitOptions<T> {
  /** what is awaited, for the error; a function when the state at the time belongs in it (a process's output) */
  what?: string | (() => string);
  /** ms before giving up (default 30,000) */
  ms?: number;
  /** ms between probes (default 10) */
  every?: number;
  /** when the answer is good enough (default: truthy) */
  until?: (v: T) => boolean;
  /** a reason to stop waiting at once (the process it waits on has exited), or undefined to go on */
  abandon?: () => string | undefined;
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions<T> | string = {}): Promise<Truthy<T>> {
  const o = typeof opts === 'string' ? { what: opts } : opts;
  const ms = o.ms ?? 30_000;
  const ok = o.until ?? ((v: T) => Boolean(v));
  const describe = () => (typeof o.what === 'function' ? o.what() : (o.what ?? 'a condition'));
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v as Truthy<T>;
    const gaveUp = o.abandon?.();
    if (gaveUp !== undefined) throw new Error(`${gaveUp} (waiting for ${describe()})`);
    if (Date.now() > end) {
      const last = typeof v === 'boolean' || v === undefined ? '' : `; last seen: ${JSON.stringify(v)}`;
      throw new Error(`timed out after ${ms / 1000} s waiting for ${describe()}${last}`);
    }
    await new Promise((r) => setTimeout(r, o.every ?? 10));
  }
}
