// Getis-Ord local G and G* z-scores with binary weights, exactly as PySAL esda's G_Local computes them
// (esda/getisord.py, G_Local.calc): moments under normality, Gi excluding the observation itself, Gi*
// including it. For Gi* the moments are the same for every observation, so they are computed once.

/** What Gi* z-scores of one set of observations share. */
export class StarMoments {
  invSum: f64;
  invN: f64;
  n: f64;
  /** variance / mean² / (n−1) / n² */
  k: f64;
  constructor(sum: f64, sumSq: f64, n: f64) {
    const mean = sum / n;
    const variance = sumSq / n - mean * mean;
    this.invSum = 1 / sum;
    this.invN = 1 / n;
    this.n = n;
    this.k = variance / (mean * mean) / (n - 1) / (n * n);
  }
}

/** Gi* z: `lag` = Σ_j w_ij y_j over the neighbourhood including i, `card` = its size. */
@inline export function giStarZ(m: StarMoments, lag: f64, card: f64): f64 {
  return (lag * m.invSum - card * m.invN) / Math.sqrt(card * (m.n - card) * m.k);
}

/** Gi z (i excluded): moments without observation i, whose value is `yi`. */
export function giZ(lag: f64, card: f64, yi: f64, sum: f64, sumSq: f64, n: f64): f64 {
  const N = n - 1;
  const denom = sum - yi;
  const mean = denom / N;
  const variance = (sumSq - yi * yi) / N - mean * mean;
  const v = ((card * (N - card)) / (N - 1) / (N * N)) * (variance / (mean * mean));
  return (lag / denom - card / N) / Math.sqrt(v);
}
