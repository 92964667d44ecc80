/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): the delay
 * before attempt n is uniform in [0, min(max, base·2ⁿ)], so a fleet that lost its zipper together does not
 * come back together.
 */
export const backoffDelay = (attempt: number, base = 100, max = 10_000, random = Math.random): number =>
  Math.floor(random() * Math.min(max, base * 2 ** attempt));
