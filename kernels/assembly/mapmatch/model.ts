// The hidden Markov model's probabilities (Newson & Krumm 2009), as log-likelihoods.
import { from, len } from './graph';
import { backTolerance, sigma } from './params';
import { settled } from './route';

@inline export function emission(d: f64): f64 { return -0.5 * (d / sigma) * (d / sigma); }

/**
 * Route metres from a candidate (edge ea at oa) to another (eb at ob), given a search from to(ea). A small
 * step backwards on one edge (noise while stopped) is a negative route, so |route − great circle| charges it
 * twice its length and a wrong-way one-way street stays expensive.
 */
export function routeBetween(ea: i32, oa: f64, eb: i32, ob: f64): f64 {
  if (ea == eb && ob >= oa - backTolerance) return ob - oa;
  const d = settled(from(eb));
  return d == Infinity ? Infinity : len(ea) - oa + d + ob;
}
