// The kernel's params (docs/map-matching.md has each one's meaning and measured effect).
import { fail, jsonNumber } from '../abi';

export const MAX_K: i32 = 32;

export let sigma: f64 = 5;
export let radius: f64 = 50;
export let K: i32 = 16;
export let beta: f64 = 1;
export let lag: i32 = 5;
export let lagMs: f64 = 0;
export let maxGapMs: f64 = 60000;
export let routeFactor: f64 = 2;
export let backTolerance: f64 = 10;
export let idleMs: f64 = 300000;
export let stationary: f64 = 10;

/** Reads the params JSON; returns 0, or fails with the reason. */
export function readParams(json: string): i32 {
  sigma = jsonNumber(json, 'sigma', 5);
  radius = jsonNumber(json, 'radius', 50);
  K = <i32>jsonNumber(json, 'k', 16);
  beta = jsonNumber(json, 'beta', 1);
  lag = <i32>jsonNumber(json, 'lag', 5);
  lagMs = jsonNumber(json, 'lagSeconds', 0) * 1000;
  maxGapMs = jsonNumber(json, 'maxGap', 60) * 1000;
  routeFactor = jsonNumber(json, 'routeFactor', 2);
  backTolerance = jsonNumber(json, 'backTolerance', 2 * sigma);
  idleMs = jsonNumber(json, 'idle', 300) * 1000;
  stationary = jsonNumber(json, 'stationary', 2 * sigma);
  if (!(sigma > 0)) return fail('sigma must be a positive number of metres');
  if (!(radius > 0) || radius > 1000) return fail('radius must be between 0 and 1000 metres');
  if (K < 1 || K > MAX_K) return fail('k must be between 1 and ' + MAX_K.toString());
  if (!(beta > 0)) return fail('beta must be a positive number of metres');
  if (lag < 0 || lag > 100) return fail('lag must be between 0 and 100 fixes');
  if (!(lagMs >= 0) || !(maxGapMs > 0) || !(idleMs > 0)) return fail('lagSeconds, maxGap and idle must be positive seconds');
  if (!(routeFactor >= 1)) return fail('routeFactor must be at least 1');
  if (!(backTolerance >= 0)) return fail('backTolerance must be zero or more metres');
  return 0;
}
