// Getis-Ord local G and G* z-scores with binary weights, exactly as PySAL esda's G_Local computes them
// (esda/getisord.py, G_Local.calc): moments under normality, Gi excluding the cell itself, Gi* including it.

/**
 * z-score of one observation. `lag` = Σ_j w_ij y_j over its neighbours (itself included for G*),
 * `card` = Σ_j w_ij, `yi` its own value; `sum`, `sumSq`, `n` over all observations.
 */
export function giZ(lag: f64, card: f64, yi: f64, sum: f64, sumSq: f64, n: f64, star: bool): f64 {
  const removeSelf: f64 = star ? 0 : 1;
  const N = n - removeSelf;
  const denom = sum - yi * removeSelf;
  const mean = denom / N;
  const variance = (sumSq - yi * yi * removeSelf) / N - mean * mean;
  const statistic = lag / denom;
  const expected = card / N;
  const v = ((card * (N - card)) / (N - 1) / (N * N)) * (variance / (mean * mean));
  return (statistic - expected) / Math.sqrt(v);
}
