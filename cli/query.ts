import { readDecimal } from '../codecs/decimal.ts';
import { queryFleet, type FleetAnswer } from '../query/query-client.ts';
import { didYouMean } from '../workflows/errors.ts';
import { UsageError, type Parsed } from './args.ts';
import { readText } from './read-input.ts';

const QUERIES = ['nearby', 'within', 'intersects'];

const parseWhere = (raw: unknown) =>
  raw === undefined ? undefined : Object.fromEntries(String(raw).split(',').map((p) => [p.slice(0, p.indexOf(':')), p.slice(p.indexOf(':') + 1)]));

/**
 * A number flag read as the server reads its parameters: `-k abc` is said here, not sent on as NaN for the
 * server to answer `got "NaN"`; whether it is in range is the server's to say.
 */
function decimal(flag: string, raw: string): number {
  const v = readDecimal(raw);
  if (!Number.isFinite(v)) throw new UsageError(`--${flag}: "${raw}" is ${Number.isNaN(v) ? 'not a number' : 'beyond the largest number, about 1.8e308'}`);
  return v;
}

async function readGeoJson(path: unknown): Promise<object> {
  if (path === undefined) throw new UsageError('name a GeoJSON file with --geojson (- for standard input)');
  const text = await readText(String(path));
  try {
    return JSON.parse(text) as object;
  } catch (e) {
    throw new UsageError(`${path} is not JSON: ${(e as Error).message}`);
  }
}

/** `geoflux query <nearby|within|intersects>`: the flags go to the server as they are, which says what is wrong with them. */
export async function queryCommand({ values, positionals }: Parsed): Promise<void> {
  const [what] = positionals;
  if (!QUERIES.includes(what)) throw new UsageError(`${what ? `unknown query "${what}"${didYouMean(what, QUERIES)}` : 'name a query'}: ${QUERIES.join(', ')} (geoflux query --help)`);
  const fleet = queryFleet(String(values.url));
  const where = parseWhere(values.where);
  const need = (flag: string) => {
    if (values[flag] === undefined) throw new UsageError(`${what} needs --${flag}`);
    return decimal(flag, String(values[flag]));
  };
  let answer: FleetAnswer<object>;
  if (what === 'nearby') answer = await fleet.nearby({ lon: need('lon'), lat: need('lat'), k: need('k'), radius: values.radius === undefined ? undefined : need('radius'), where });
  else if (what === 'within' && values.bbox !== undefined) {
    const bbox = String(values.bbox).split(',').map((v) => decimal('bbox', v)) as [number, number, number, number];
    answer = await fleet.within({ bbox }, where);
  } else if (what === 'within') {
    if (values.geojson === undefined) throw new UsageError('within needs --bbox west,south,east,north, or --geojson <file|-> (a polygon)');
    answer = await fleet.within({ geometry: await readGeoJson(values.geojson) }, where);
  }
  else answer = await fleet.intersects(await readGeoJson(values.geojson), where);
  for (const item of answer.items) process.stdout.write(JSON.stringify(item) + '\n');
  process.stderr.write(`${answer.count} vehicle${answer.count === 1 ? '' : 's'}\n`);
}
