// The kernel's params, read from the params JSON (docs/map-matching.md has each one's measured effect).
import { fail, jsonNumber } from '../abi';

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

/** Reads the params JSON; returns 0, or fails with the reason. */
export function readParams(json: string): i32 {
  sigma = jsonNumber(json, 'sigma', NaN);
  radius = jsonNumber(json, 'radius', 50);
  K = <i32>jsonNumber(json, 'k', 16);
  beta = jsonNumber(json, 'beta', 3);
  lag = <i32>jsonNumber(json, 'lag', 30);
  lagMs = jsonNumber(json, 'lagSeconds', 0) * 1000;
  maxGapMs = jsonNumber(json, 'maxGap', 60) * 1000;
  routeFactor = jsonNumber(json, 'routeFactor', 2);
  backTolerance = jsonNumber(json, 'backTolerance', Infinity);
  idleMs = jsonNumber(json, 'idle', 300) * 1000;
  stationary = jsonNumber(json, 'stationary', NaN);
  stopSpeed = jsonNumber(json, 'stopSpeed', 0.5);
  headingSigma = jsonNumber(json, 'headingSigma', 30);
  headingSpeed = jsonNumber(json, 'headingSpeed', 1);
  uTurn = jsonNumber(json, 'uTurn', 10);
  maxSpeed = jsonNumber(json, 'maxSpeed', 60);
  beam = jsonNumber(json, 'beam', 15);
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
