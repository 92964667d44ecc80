import type { Logger } from '../log/logger.ts';
import type { Source } from './connect-source.ts';

/**
 * A source as a module, for a workflow's `sources:` section: `geoflux serve` connects it and calls the default
 * export, which writes until `signal` aborts.
 */
export interface SourceContext {
  name: string;
  params: Record<string, unknown>;
  /** where relative paths in params point from: the workflow file's directory */
  dir: string;
  signal: AbortSignal;
  log: Logger;
  /** the workflow's MQTT broker (the embedded one's URL, or `mqtt.url`), when it has one */
  mqtt?: { url: string; username?: string; password?: string };
  /** counters of the source's own (what a device listener accepted and refused), read at each `/metrics` scrape */
  report?(stats: () => Record<string, unknown>): void;
  /** a module that `listens` calls this once its listeners are bound */
  listening?(): void;
}

export interface SourceModule {
  default: (source: Source, ctx: SourceContext) => Promise<void>;
  /**
   * The source listens for devices: serve counts it started only once it calls `ctx.listening()`, so a
   * port it cannot bind stops serve at the source's line instead of leaving a workflow that hears nothing.
   */
  listens?: boolean;
  /**
   * What it needs before it runs (the files its params name), checked as serve starts it: a failure stops serve,
   * at the param its `problems` name, rather than leaving it serving a source that stopped at once.
   */
  check?(params: Record<string, unknown>, dir: string): Promise<void>;
  /** false for params under which it writes nothing to the zipper: serve then opens no connection for it */
  writes?(params: Record<string, unknown>): boolean;
}
