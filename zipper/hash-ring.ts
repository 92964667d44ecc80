/**
 * Consistent hashing: each instance owns many points on a 32-bit ring; a key belongs to the first point at or
 * after its hash. When an instance joins or leaves only the keys of its points move, so a vehicle stays on
 * one instance for as long as that instance lives.
 */

const VNODES = 128;

/** FNV-1a over UTF-16 code units, finished with a murmur3 mix so near-identical keys spread out. */
export function hash32(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HashRing<T> {
  private readonly points: Uint32Array;
  private readonly owners: T[];

  constructor(members: readonly { id: string; value: T }[]) {
    const pts: { p: number; v: T }[] = [];
    for (const m of members) for (let i = 0; i < VNODES; i++) pts.push({ p: hash32(`${m.id}#${i}`), v: m.value });
    pts.sort((a, b) => a.p - b.p);
    this.points = Uint32Array.from(pts, (x) => x.p);
    this.owners = pts.map((x) => x.v);
  }

  get size(): number {
    return this.owners.length;
  }

  /** the owner of `key`, or undefined on an empty ring */
  owner(key: string): T | undefined {
    if (this.owners.length === 0) return undefined;
    const h = hash32(key);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === this.points.length ? 0 : lo];
  }
}
