// The kernel's params, declared for the host and read from the params block (docs/map-matching.md has each
// one's measured effect).
import { fail, param, paramF64, takeParams } from '../abi';

export const MAX_K: i32 = 32;
/**
 * GPS noise assumed for a fix without an `accuracy` when no `sigma` is given: on the Kubička track (no
 * accuracy field) 8 and 9 m find every true arc, 7 and 10 miss the last one, 5 misses two
 */
export const SIGMA_FALLBACK: f64 = 8;

/** GPS noise σ, metres; NaN (not given): each fix's `accuracy`, else SIGMA_FALLBACK */
export let sigma: f64 = NaN;
/** candidates are searched this many metres round a fix */
export let radius: f64 = 50;
/** most candidates per fix (the lattice width) */
export let K: i32 = 16;
/** the vehicle's own variation in the transition, metres per second of interval */
export let beta: f64 = 3;
/** most fixes with candidates that wait for the best path to converge */
export let lag: i32 = 30;
/** also commit a fix once it is this much older than the newest fix seen (0: off) */
export let lagMs: f64 = 0;
/** a longer gap in a device's fixes restarts its match */
export let maxGapMs: f64 = 60000;
/** routes longer than routeFactor × straight line + 2 × radius are not searched */
export let routeFactor: f64 = 2;
/** metres a vehicle may appear to move back along one edge before the step counts as going round */
export let backTolerance: f64 = Infinity;
/** a device silent this long (stream time) is flushed and forgotten */
export let idleMs: f64 = 300000;
/** metres within which a fix without a speed counts as stationary; NaN: 2σ */
export let stationary: f64 = NaN;
/** a fix reporting a speed below this (m/s) is stationary */
export let stopSpeed: f64 = 0.5;
/** σ of the fix's heading against the road's bearing, degrees (0: headings unused) */
export let headingSigma: f64 = 30;
/** headings of fixes slower than this (m/s) are ignored */
export let headingSpeed: f64 = 1;
/** log-likelihood a path pays for turning back on itself */
export let uTurn: f64 = 10;
/** m/s no vehicle exceeds: a longer route in the time (noise allowed for) is no link */
export let maxSpeed: f64 = 60;
/** paths this far (log-likelihood) behind the best are dropped */
export let beam: f64 = 15;


/** the road graph: its slot holds the graph file's bytes */
export const P_NETWORK = param('network', 'roads', 'the road network: an OSM PBF, or a Kubička network (prefix or directory)', '"required":true');
const P_SIGMA = param('sigma', 'number', "GPS noise σ, metres (default: each fix's accuracy, else 8)", '"min":0,"exclusiveMin":true');
const P_RADIUS = param('radius', 'number', 'candidate search radius, metres', '"default":50,"min":0,"exclusiveMin":true,"max":1000');
const P_K = param('k', 'integer', 'most candidates per fix (a two-way road is two)', '"default":16,"min":1,"max":' + MAX_K.toString());
const P_BETA = param('beta', 'number', "the vehicle's own variation in the transition, metres per second between fixes", '"default":3,"min":0,"exclusiveMin":true');
const P_LAG = param('lag', 'integer', 'most fixes with candidates held while the best path converges', '"default":30,"min":0,"max":100');
const P_LAG_S = param('lagSeconds', 'number', 'also commit a fix once it is this many seconds older than the newest fix seen (0: off)', '"default":0,"min":0');
const P_MAX_GAP = param('maxGap', 'number', 'a gap in time longer than this (seconds) restarts the match', '"default":60,"min":0,"exclusiveMin":true');
const P_ROUTE_FACTOR = param('routeFactor', 'number', 'routes longer than routeFactor × great circle + 2 × radius are not searched', '"default":2,"min":1');
const P_BACK = param('backTolerance', 'number', 'metres a vehicle may appear to move back on one edge before the step counts as going round (default: no limit)', '"min":0');
const P_IDLE = param('idle', 'number', 'a device silent this many seconds of stream time is flushed and forgotten', '"default":300,"min":0,"exclusiveMin":true');
const P_STATIONARY = param('stationary', 'number', 'a fix without a speed this close (metres) to the last one matched is stationary (default 2σ)', '"min":0');
const P_STOP_SPEED = param('stopSpeed', 'number', 'a fix reporting a speed below this (m/s) is stationary', '"default":0.5,"min":0');
const P_HEADING_SIGMA = param('headingSigma', 'number', "σ of a fix's heading against the road's bearing, degrees; 0 ignores headings", '"default":30,"min":0,"max":180');
const P_HEADING_SPEED = param('headingSpeed', 'number', 'headings of fixes slower than this (m/s) are ignored', '"default":1,"min":0');
const P_U_TURN = param('uTurn', 'number', 'log-likelihood a path pays for turning back on itself', '"default":10,"min":0');
const P_MAX_SPEED = param('maxSpeed', 'number', 'm/s no vehicle exceeds: a longer route in the time, noise allowed for, is no link', '"default":60,"min":0,"exclusiveMin":true');
const P_BEAM = param('beam', 'number', 'paths this far (log-likelihood) behind the best are dropped', '"default":15,"min":0,"exclusiveMin":true');

/** Takes the params block; returns 0, or fails with the reason. The road graph is the `network` param's data. */
export function readParams(ptr: usize, len: i32): i32 {
  const status = takeParams(ptr, len);
  if (status != 0) return status;
  sigma = paramF64(P_SIGMA);
  radius = paramF64(P_RADIUS);
  K = <i32>paramF64(P_K);
  beta = paramF64(P_BETA);
  lag = <i32>paramF64(P_LAG);
  lagMs = paramF64(P_LAG_S) * 1000;
  maxGapMs = paramF64(P_MAX_GAP) * 1000;
  routeFactor = paramF64(P_ROUTE_FACTOR);
  backTolerance = isNaN(paramF64(P_BACK)) ? Infinity : paramF64(P_BACK);
  idleMs = paramF64(P_IDLE) * 1000;
  stationary = paramF64(P_STATIONARY);
  stopSpeed = paramF64(P_STOP_SPEED);
  headingSigma = paramF64(P_HEADING_SIGMA);
  headingSpeed = paramF64(P_HEADING_SPEED);
  uTurn = paramF64(P_U_TURN);
  maxSpeed = paramF64(P_MAX_SPEED);
  beam = paramF64(P_BEAM);
  if (!isNaN(sigma) && !(sigma > 0)) return fail('sigma must be a positive number of metres');
  if (!(radius > 0) || radius > 1000) return fail('radius must be between 0 and 1000 metres');
  if (K < 1 || K > MAX_K) return fail('k must be between 1 and ' + MAX_K.toString());
  if (!(beta > 0)) return fail('beta must be a positive number of metres');
  if (lag < 0 || lag > 100) return fail('lag must be between 0 and 100 fixes');
  if (!(lagMs >= 0) || !(maxGapMs > 0) || !(idleMs > 0)) return fail('lagSeconds, maxGap and idle must be positive seconds');
  if (!(routeFactor >= 1)) return fail('routeFactor must be at least 1');
  if (!(backTolerance >= 0)) return fail('backTolerance must be zero or more metres');
  if (!isNaN(stationary) && !(stationary >= 0)) return fail('stationary must be zero or more metres');
  if (!(stopSpeed >= 0) || !(headingSpeed >= 0) || !(maxSpeed > 0)) return fail('stopSpeed and headingSpeed must be zero or more, maxSpeed more than zero m/s');
  if (!(headingSigma >= 0) || headingSigma > 180) return fail('headingSigma must be between 0 and 180 degrees');
  if (!(uTurn >= 0) || !(beam > 0)) return fail('uTurn must be zero or more, beam more than zero (log-likelihood)');
  return 0;
}
