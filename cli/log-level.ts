import { LEVELS, parseLevel, type Level } from '../log/logger.ts';
import { didYouMean } from '../workflows/errors.ts';
import { UsageError } from './args.ts';

/**
 * The level a command logs at: `--log-level` if given, else `GEOFLUX_LOG`, else info. Either one written in
 * capitals is taken; one that is no level is a usage error, so an operator's `GEOFLUX_LOG=verbose` is not
 * quietly read as info.
 */
export function chosenLogLevel(flag: string | undefined, env: string | undefined): Level {
  const [text, where] = flag !== undefined ? [flag, '--log-level'] : env !== undefined && env !== '' ? [env, 'GEOFLUX_LOG'] : ['info', 'the default'];
  const level = parseLevel(text);
  if (level) return level;
  throw new UsageError(`${where} "${text}" is no log level: ${LEVELS.join(', ')}${didYouMean(text.trim().toLowerCase(), LEVELS)}`);
}
