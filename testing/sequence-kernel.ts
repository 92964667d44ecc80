import { onHeader } from './c-kernel.ts';

/**
 * The C source of a kernel with per-device state that shows loss and repeats: a row for every fix, carrying
 * how many fixes of its device the kernel has seen (1, 2, 3 …). A device's `seq` that skips a number lost a
 * fix; one that repeats or starts over handled a fix twice or lost the device's state. Its state moves whole
 * (snapshot/restore) and by device (export/import/drop_devices, docs/kernel-abi.md). `version` > 1 adds a
 * `version` field to every row: the "new version that emits an extra field" of a replace. `name` is the
 * kernel's name, which an export carries: another name is another state layout, refused on import.
 */
export function sequenceKernelSource(version = 1, name = 'sequence'): string {
  const fields = [
    { name: 'row', type: 'row' },
    { name: 'seq', type: 'u32', doc: "fixes of the row's device seen so far" },
    ...(version > 1 ? [{ name: 'version', type: 'u32', doc: 'the kernel version that wrote the row' }] : []),
  ];
  const schema = { name, doc: 'a row per fix with its device\'s fix count', params: [], output: fields, counters: ['skipped', 'lostRows'] };
  return onHeader(schema, `
#define VERSION ${version}
#define MAX_DEVICES 4096
static uint32_t seen[MAX_DEVICES]; /* fixes seen per device id; 0: the kernel holds nothing of it */
static double skipped, lost;

GF_EXPORT(init) int32_t init(const void *params, int32_t len) { return 0; }

GF_EXPORT(process) int32_t process(const void *batch, int32_t n, void *out, int32_t cap) {
  gf_batch b = gf_columns(batch, n);
  uint32_t *row = GF_COLUMN(uint32_t, out, cap, 0);
  uint32_t *seq = GF_COLUMN(uint32_t, out, cap, 4);
  uint32_t *ver = GF_COLUMN(uint32_t, out, cap, 8);
  int32_t rows = 0;
  for (int32_t i = 0; i < n; i++) {
    if (gf_bad_coordinates(b.lon[i], b.lat[i]) || b.device[i] >= MAX_DEVICES) { skipped++; continue; }
    uint32_t s = ++seen[b.device[i]];
    if (rows == cap) { lost++; continue; }
    row[rows] = (uint32_t)i;
    seq[rows] = s;
    if (VERSION > 1) ver[rows] = VERSION;
    rows++;
  }
  return rows;
}

GF_EXPORT(flush) int32_t flush(void *out, int32_t cap) { return 0; }

GF_EXPORT(counter) double counter(int32_t i) { return i == 0 ? skipped : i == 1 ? lost : NAN; }

static void put(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* snapshot: u32 count · count × { u32 device · u32 seen } */
GF_EXPORT(snapshot) int32_t snapshot(void *out, int32_t cap) {
  uint32_t count = 0;
  for (uint32_t d = 0; d < MAX_DEVICES; d++) count += seen[d] != 0;
  int32_t size = 4 + 8 * (int32_t)count;
  if (size > cap) return size;
  uint8_t *p = out;
  put(p, count);
  p += 4;
  for (uint32_t d = 0; d < MAX_DEVICES; d++) if (seen[d]) { put(p, d); put(p + 4, seen[d]); p += 8; }
  return size;
}

GF_EXPORT(restore) int32_t restore(const void *in, int32_t len) {
  const uint8_t *p = in;
  if (len < 4) return 1;
  uint32_t count = get(p);
  if ((uint32_t)len != 4 + 8 * count) return 1;
  for (uint32_t i = 0; i < count; i++) if (get(p + 4 + 8 * i) >= MAX_DEVICES) return 1;
  memset(seen, 0, sizeof seen);
  for (uint32_t i = 0; i < count; i++) seen[get(p + 4 + 8 * i)] = get(p + 8 + 8 * i);
  return 0;
}

/* the ABI's frame: u32 sharedBytes (0) · u32 count · count × { u32 device · u32 bytes (4) · u32 seen } */
GF_EXPORT(export_devices) int32_t export_devices(const uint32_t *ids, int32_t n, void *out, int32_t cap) {
  uint32_t count = 0;
  for (int32_t i = 0; i < n; i++) count += ids[i] < MAX_DEVICES && seen[ids[i]];
  int32_t size = 8 + 12 * (int32_t)count;
  if (size > cap) return size;
  uint8_t *p = out;
  put(p, 0);
  put(p + 4, count);
  p += 8;
  for (int32_t i = 0; i < n; i++) if (ids[i] < MAX_DEVICES && seen[ids[i]]) { put(p, ids[i]); put(p + 4, 4); put(p + 8, seen[ids[i]]); p += 12; }
  return size;
}

GF_EXPORT(import_devices) int32_t import_devices(const void *in, int32_t len) {
  const uint8_t *p = in;
  if (len < 8 || get(p) != 0) return 1;
  uint32_t count = get(p + 4);
  if ((uint32_t)len != 8 + 12 * count) return 1;
  /* a count of 0 or past 2^31 is no device's: junk */
  for (uint32_t i = 0; i < count; i++) {
    uint32_t v = get(p + 16 + 12 * i);
    if (get(p + 8 + 12 * i) >= MAX_DEVICES || get(p + 12 + 12 * i) != 4 || v == 0 || v > 0x7fffffff) return 1;
  }
  for (uint32_t i = 0; i < count; i++) seen[get(p + 8 + 12 * i)] = get(p + 16 + 12 * i);
  return 0;
}

GF_EXPORT(drop_devices) int32_t drop_devices(const uint32_t *ids, int32_t n) {
  int32_t held = 0;
  for (int32_t i = 0; i < n; i++) if (ids[i] < MAX_DEVICES && seen[ids[i]]) { held++; seen[ids[i]] = 0; }
  return held;
}
`);
}
