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
}

export interface SourceModule {
  default: (source: Source, ctx: SourceContext) => Promise<void>;
}
