import type { FleetIndexOptions } from './fleet-index.ts';

/** what a workflow names to keep the fleet's index: serve hosts it itself, beside the dashboard that answers from it */
export const FLEET_BUILTIN = 'builtin:fleet';

export const DEFAULT_TTL = 300;
export const DEFAULT_CELL = 250;

/** The function's params (`ttl` seconds, `cell` metres) and what is wrong with them. */
export function fleetParams(params: Record<string, unknown>): { options: FleetIndexOptions; problems: { path: string[]; reason: string }[] } {
  const problems: { path: string[]; reason: string }[] = [];
  const positive = (k: string, dflt: number) => {
    const v = params[k] ?? dflt;
    if (typeof v === 'number' && v > 0 && Number.isFinite(v)) return v;
    problems.push({ path: [k], reason: `must be a number > 0 (got ${JSON.stringify(v)})` });
    return dflt;
  };
  for (const k of Object.keys(params)) if (k !== 'ttl' && k !== 'cell') problems.push({ path: [k], reason: 'unknown param (fleet takes ttl: seconds, cell: metres)' });
  return { options: { ttl: positive('ttl', DEFAULT_TTL), cell: positive('cell', DEFAULT_CELL) }, problems };
}
