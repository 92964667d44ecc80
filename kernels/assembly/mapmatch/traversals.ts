// What the kernel writes: matched and unmatched fixes, and a traversal per edge driven between committed
// fixes (the edges between found by one more search, the time shared out by distance).
import { field, jsonList, Output } from '../abi';
import { atLat, atLon, from, len, pointAt, to } from './graph';
import { backTolerance, maxSpeed } from './params';
import { addTarget, clearTargets, dijkstra, settled, via } from './route';

const KIND_MATCHED: u32 = 0;
const KIND_UNMATCHED: u32 = 1;
const KIND_TRAVERSAL: u32 = 2;
const KIND_PARTIAL: u32 = 3;
/** matched, and the chain broke just before: nothing links this fix to the ones before it */
const KIND_RESTARTED: u32 = 4;
const NO_EDGE: u32 = 0xffffffff;

const F_T = field('t', 'time', "the fix's time; a traversal's exit");
const F_ENTER = field('enter', 'time', "a traversal's entry");
const F_LON = field('lon', 'f64', 'where a matched fix was placed on the road');
const F_LAT = field('lat', 'f64', 'where a matched fix was placed on the road');
const F_RAW_LON = field('rawLon', 'f64', 'where the fix was reported');
const F_RAW_LAT = field('rawLat', 'f64', 'where the fix was reported');
const F_OFFSET = field('offset', 'f64', 'metres along the edge; a traversal: metres driven on it');
const F_SPEED = field('speed', 'f64', 'm/s; a traversal: its mean');
const F_DETECT = field(
  'detect',
  'enum',
  'matched; unmatched (no road within radius); traversal (an edge driven end to end); partial (begun or left midway); restarted (matched, the chain broke just before)',
  '"values":' + jsonList(['matched', 'unmatched', 'traversal', 'partial', 'restarted']),
);
const F_DEVICE = field('deviceId', 'device', 'the vehicle');
const F_EDGE = field('edge', 'u32', 'the edge (4294967295: none)');

export const out = new Output();

/** rows whose speed over the route came out faster than `maxSpeed` (counter `implausibleSpeeds`) */
export let implausibleSpeeds: u32 = 0;
export function setImplausibleSpeeds(n: u32): void { implausibleSpeeds = n; }

/**
 * `metres` in `ms` as m/s, or `own` (the fix's GPS speed; NaN: none) where that is faster than `maxSpeed`:
 * the route limit lets a route run σs of noise past what maxSpeed drives, which over fixes ms apart is a
 * speed no vehicle drives (1,295 m/s in the e2e bench), and a row reporting it was refused by the host's
 * fix checks, its matched position lost with it.
 */
function routedSpeed(metres: f64, ms: f64, own: f64): f64 {
  const v = (Math.abs(metres) * 1000) / ms;
  if (v <= maxSpeed) return v;
  implausibleSpeeds++;
  return own;
}

function row(kind: u32, id: u32, edge: u32, t: f64, t2: f64, lon: f64, lat: f64, rawLon: f64, rawLat: f64, offset: f64, speed: f64): void {
  const i = out.next();
  if (i < 0) return;
  out.f64(F_T, i, t);
  out.f64(F_ENTER, i, t2);
  out.f64(F_LON, i, lon);
  out.f64(F_LAT, i, lat);
  out.f64(F_RAW_LON, i, rawLon);
  out.f64(F_RAW_LAT, i, rawLat);
  out.f64(F_OFFSET, i, offset);
  out.f64(F_SPEED, i, speed);
  out.u32(F_DETECT, i, kind);
  out.u32(F_DEVICE, i, id);
  out.u32(F_EDGE, i, edge);
}

export function unmatchedRow(id: u32, t: f64, lon: f64, lat: f64, speed: f64): void {
  row(KIND_UNMATCHED, id, NO_EDGE, t, NaN, lon, lat, lon, lat, NaN, speed);
}

/** A device's committed position, and where and when it entered the edge it is on. */
export class Track {
  on: bool = false;
  edge: i32 = 0;
  off: f64 = 0;
  t: f64 = 0;
  lon: f64 = 0;
  lat: f64 = 0;
  enterT: f64 = 0;
  enterOff: f64 = 0;
}

/** the edge the track is on is left at `exitT`, `exitOff` metres along it */
function leaveEdge(tr: Track, id: u32, exitT: f64, exitOff: f64, complete: bool): void {
  const metres = exitOff - tr.enterOff;
  // entered and left at the same point (a chain that began at a node): nothing was driven
  if (metres < 0.5) return;
  const ms = exitT - tr.enterT;
  row(complete ? KIND_TRAVERSAL : KIND_PARTIAL, id, tr.edge, exitT, tr.enterT, NaN, NaN, NaN, NaN, metres, ms > 0 ? routedSpeed(metres, ms, NaN) : NaN);
}

const path = new StaticArray<i32>(4096);
let pathN: i32 = 0;
let pathFrom: i32 = -1;
let pathTo: i32 = -1;
let pathRoute: f64 = NaN;

/** a new graph: no path found before holds */
export function resetPaths(): void { pathFrom = -1; }

/** fills `path` with the edges strictly between the track's edge and e on a route of `route` metres, last first */
function pathBetween(tr: Track, e: i32, route: f64): void {
  // stationary fixes and the fix after them ask for the same path
  if (pathFrom == tr.edge && pathTo == e && pathRoute == route) return;
  pathFrom = tr.edge;
  pathTo = e;
  pathRoute = route;
  pathN = 0;
  // the transition's search is long gone: search again, for the one target
  clearTargets();
  addTarget(from(e));
  dijkstra(to(tr.edge), route + 1);
  if (settled(from(e)) != Infinity) for (let v = from(e); v != to(tr.edge) && pathN < path.length; v = from(via[v])) path[pathN++] = via[v];
}

@inline function sameEdge(tr: Track, e: i32, off: f64): bool { return tr.edge == e && off >= tr.off - backTolerance; }

/**
 * A stationary (or outlier) fix at `t`, between the committed position and the next committed candidate
 * (edge e at `off`, `route` metres on, at `nextT`): placed on that route in proportion to time, so a
 * vehicle that was moving after all is not held back; with no next candidate (route Infinity) it takes
 * the committed position.
 */
export function placeBetween(tr: Track, id: u32, t: f64, rawLon: f64, rawLat: f64, speed: f64, e: i32, off: f64, route: f64, nextT: f64): void {
  if (route == Infinity || !(nextT > tr.t)) {
    row(KIND_MATCHED, id, tr.edge, t, NaN, tr.lon, tr.lat, rawLon, rawLat, tr.off, isNaN(speed) ? 0 : speed);
    return;
  }
  let x = (route * (t - tr.t)) / (nextT - tr.t);
  let edge = tr.edge;
  let at = tr.off + x;
  if (!sameEdge(tr, e, off) && at > len(tr.edge)) {
    x -= len(tr.edge) - tr.off;
    pathBetween(tr, e, route);
    let j = pathN - 1;
    for (; j >= 0 && x > len(path[j]); j--) x -= len(path[j]);
    edge = j >= 0 ? path[j] : e;
    at = j >= 0 ? x : Math.min(x, off);
  }
  pointAt(edge, at);
  row(KIND_MATCHED, id, edge, t, NaN, atLon, atLat, rawLon, rawLat, at, isNaN(speed) ? routedSpeed(route, nextT - tr.t, NaN) : speed);
}

/**
 * Commits a matched fix on edge e at `off`, `route` metres on from the last committed position (Infinity:
 * not linked, the track starts again here); writes the traversals of the edges left behind and the fix.
 */
export function advance(tr: Track, id: u32, e: i32, off: f64, t: f64, route: f64, rawLon: f64, rawLat: f64, speed: f64): void {
  const restarted = route == Infinity && tr.on;
  if (route == Infinity) {
    if (tr.on) leaveEdge(tr, id, tr.t, tr.off, false);
    tr.enterT = t;
    tr.enterOff = off;
  } else {
    if (t > tr.t) speed = routedSpeed(route, t - tr.t, speed);
    if (!sameEdge(tr, e, off)) {
      // the edges between, the time shared out by distance
      pathBetween(tr, e, route);
      const n = pathN;
      const perMetre = route > 0 ? (t - tr.t) / route : 0;
      let at = tr.t + (len(tr.edge) - tr.off) * perMetre;
      leaveEdge(tr, id, at, len(tr.edge), tr.enterOff == 0);
      for (let j = n - 1; j >= 0; j--) {
        const pe = path[j];
        const next = at + len(pe) * perMetre;
        tr.edge = pe;
        tr.enterT = at;
        tr.enterOff = 0;
        leaveEdge(tr, id, next, len(pe), true);
        at = next;
      }
      tr.enterT = at;
      tr.enterOff = 0;
    }
  }
  pointAt(e, off);
  row(restarted ? KIND_RESTARTED : KIND_MATCHED, id, e, t, NaN, atLon, atLat, rawLon, rawLat, off, speed);
  tr.on = true;
  tr.edge = e;
  tr.off = off;
  tr.t = t;
  tr.lon = atLon;
  tr.lat = atLat;
}

/** the chain ends: the edge the track is on is closed as a partial traversal */
export function endTrack(tr: Track, id: u32): void {
  if (tr.on) leaveEdge(tr, id, tr.t, tr.off, false);
  tr.on = false;
}
