import { Observable } from 'rxjs';

/**
 * An async iterable that stops when its signal aborts, as an Observable: unsubscribing aborts it, and a
 * slow subscriber is not a concern of the iterable's (pull-based backpressure stays with `for await`).
 */
export const asObservable = <T>(iterate: (signal: AbortSignal) => AsyncIterable<T>): Observable<T> =>
  new Observable<T>((subscriber) => {
    const stop = new AbortController();
    (async () => {
      for await (const x of iterate(stop.signal)) {
        if (subscriber.closed) break;
        subscriber.next(x);
      }
      subscriber.complete();
    })().catch((e: unknown) => subscriber.error(e));
    return () => stop.abort();
  });
