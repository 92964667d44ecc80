// The geoflux kernel ABI, shared by every kernel (docs/kernel-abi.md). Written in AssemblyScript; any
// language that can export these functions from a WASI preview1 module can be a kernel.

export const ABI_VERSION: i32 = 1;

let errorMessage: ArrayBuffer = new ArrayBuffer(0);

/** Records a message for the host and returns the status to hand back (negative = error). */
export function fail(message: string): i32 {
  errorMessage = String.UTF8.encode(message);
  return -1;
}

export function abi_version(): i32 {
  return ABI_VERSION;
}

/** Raw memory the host fills (batches, params) and the kernel never moves. */
export function alloc(size: usize): usize {
  return heap.alloc(size);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

export function error_ptr(): usize {
  return changetype<usize>(errorMessage);
}

export function error_len(): i32 {
  return errorMessage.byteLength;
}

/** Offsets of the columns of a batch of n fixes at `ptr`: the layout of codecs/gps-batch.ts. */
@inline export function colT(ptr: usize, n: i32): usize { return ptr; }
@inline export function colLon(ptr: usize, n: i32): usize { return ptr + 8 * <usize>n; }
@inline export function colLat(ptr: usize, n: i32): usize { return ptr + 16 * <usize>n; }
@inline export function colSpeed(ptr: usize, n: i32): usize { return ptr + 24 * <usize>n; }
@inline export function colHeading(ptr: usize, n: i32): usize { return ptr + 28 * <usize>n; }
@inline export function colAccuracy(ptr: usize, n: i32): usize { return ptr + 32 * <usize>n; }
@inline export function colDevice(ptr: usize, n: i32): usize { return ptr + 36 * <usize>n; }

/**
 * The value of a numeric field in a flat JSON object, or `dflt`. Kernel params are small flat objects;
 * this keeps a JSON parser out of every kernel.
 */
export function jsonNumber(json: string, key: string, dflt: f64): f64 {
  const at = json.indexOf('"' + key + '"');
  if (at < 0) return dflt;
  let i = json.indexOf(':', at + key.length + 2);
  if (i < 0) return dflt;
  i++;
  while (i < json.length && (json.charCodeAt(i) == 32 || json.charCodeAt(i) == 9 || json.charCodeAt(i) == 10)) i++;
  let j = i;
  while (j < json.length) {
    const c = json.charCodeAt(j);
    if ((c >= 48 && c <= 57) || c == 45 || c == 43 || c == 46 || c == 101 || c == 69) j++;
    else break;
  }
  if (j == i) return dflt;
  return parseFloat(json.substring(i, j));
}

/** NaN, infinite or out-of-range coordinates: a fix every kernel counts and skips. */
@inline export function badCoordinates(lon: f64, lat: f64): bool {
  return !isFinite(lon) || !isFinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90;
}

/**
 * Where process() writes its result rows: `cap` rows of columns at `ptr`. Rows past the capacity are
 * counted as lost rather than written out of bounds.
 */
export class Output {
  ptr: usize = 0;
  cap: i32 = 0;
  n: i32 = 0;
  lost: u32 = 0;

  begin(ptr: usize, cap: i32): void {
    this.ptr = ptr;
    this.cap = cap;
    this.n = 0;
  }

  /** the index of a new row, or -1 when full */
  next(): i32 {
    if (this.n >= this.cap) {
      this.lost++;
      return -1;
    }
    return this.n++;
  }
}
