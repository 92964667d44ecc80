// The hidden Markov model's probabilities, as log-likelihoods: Newson & Krumm (2009) with the fix's
// heading in the emission (as barefoot does) and the fix's speed in the transition.
import { angleBetween } from '../geo';
import { from, len, to } from './graph';
import { headingFloor, headingSigma, headingSpeed, uTurn } from './params';
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
    lp += Math.max(-headingFloor, -0.5 * a * a);
  }
  return lp;
}

/** e goes straight back along ea (the other direction of the same road) */
@inline function reverses(e: i32, ea: i32): bool { return from(e) == to(ea) && to(e) == from(ea); }

/** set by routeBetween(): the route turns back on itself */
export let uTurned: bool = false;

/**
 * Route metres from a candidate (edge ea at oa) to another (eb at ob), given a search from to(ea). A small
 * step backwards on one edge (noise while stopped) is a negative route; a longer one goes round.
 */
export function routeBetween(ea: i32, oa: f64, eb: i32, ob: f64, backTolerance: f64): f64 {
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
