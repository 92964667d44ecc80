// The hidden Markov model's probabilities, as log-likelihoods: Newson & Krumm (2009) with the fix's
// heading in the emission (as barefoot does) and the fix's speed in the transition.
import { angleBetween } from '../geo';
import { from, len, to } from './graph';
import { backTolerance, beta, headingSigma, headingSpeed, maxSpeed, radius, routeFactor, uTurn } from './params';
import { firstEdge, settled, via } from './route';

/**
 * A fix `d` metres from a candidate whose road runs at `roadBearing`: Gaussian in the distance (σ metres),
 * and, when the fix has a heading and moves fast enough for it to mean something, Gaussian in the angle
 * between heading and road, floored so a wrong heading costs a bounded amount.
 */
export function emission(d: f64, sigma: f64, heading: f64, speed: f64, roadBearing: f64): f64 {
  let lp = -0.5 * (d / sigma) * (d / sigma);
  if (headingSigma > 0 && isFinite(heading) && !(speed < headingSpeed)) {
    const a = angleBetween(heading, roadBearing) / headingSigma;
    lp += Math.max(-HEADING_FLOOR, -0.5 * a * a);
  }
  return lp;
}

/** the most a heading that disagrees with the road costs (log-likelihood): a wrong heading must not outvote the positions */
const HEADING_FLOOR: f64 = 4;
/** the candidates' own noise in the transition's scale, in σ: each sits about σ along its road from the truth */
const ROUTE_NOISE: f64 = 2;
/** metres of noise a route may add to the longest drive maxSpeed allows, in σ */
const LIMIT_NOISE: f64 = 6;

/** metres the vehicle is expected to have driven in `dt` seconds: its mean speed × time where both fixes have one, else the straight line */
@inline export function expectedTravel(dt: f64, gc: f64, v0: f64, v1: f64): f64 {
  return isFinite(v0) && isFinite(v1) ? ((v0 + v1) / 2) * dt : gc;
}

/** metres of |route − expected| per unit of log-likelihood: the vehicle's own variation (β a second) and the candidates' noise */
@inline export function transitionScale(dt: f64, sigma: f64): f64 {
  const b = beta * dt;
  const n = ROUTE_NOISE * sigma;
  return Math.sqrt(b * b + n * n);
}

/** routes longer than this are no link: faster than maxSpeed (noise allowed for), or far longer than the straight line */
@inline export function routeLimit(dt: f64, gc: f64, sigma: f64): f64 {
  return Math.min(maxSpeed * dt + LIMIT_NOISE * sigma, routeFactor * gc + 2 * radius);
}

/** e goes straight back along ea (the other direction of the same road) */
@inline function reverses(e: i32, ea: i32): bool { return from(e) == to(ea) && to(e) == from(ea); }

/** set by routeBetween(): the route turns back on itself */
export let uTurned: bool = false;

/**
 * Route metres from a candidate (edge ea at oa) to another (eb at ob), given a search from to(ea). A step
 * back along one edge (noise) is a negative route, which the transition charges; past `backTolerance`
 * the route goes round instead.
 */
export function routeBetween(ea: i32, oa: f64, eb: i32, ob: f64): f64 {
  uTurned = false;
  if (ea == eb && ob >= oa - backTolerance) return ob - oa;
  const n = from(eb);
  const d = settled(n);
  if (d == Infinity) return Infinity;
  // a shortest path never turns back inside itself, only where it leaves ea or joins eb
  const f = firstEdge(n);
  uTurned = f < 0 ? reverses(eb, ea) : reverses(f, ea) || reverses(eb, via[n]);
  return len(ea) - oa + d + ob;
}

/** log-likelihood of driving `route` metres where `expected` were expected, on a scale of `scale` metres */
@inline export function transition(route: f64, expected: f64, scale: f64, turnsBack: bool): f64 {
  return -Math.abs(route - expected) / scale - (turnsBack ? uTurn : 0);
}
