/*
 * speeding: a row for every fix faster than a limit. The smallest useful geoflux kernel in C, and the
 * template for one (docs/kernel-abi.md): its schema, its params read by slot, its rows by column.
 *
 *   geoflux kernel examples/kernels/c/speeding.wasm --params '{"limit": 50, "unit": "km/h"}' trace.csv
 */
#define GF_SCHEMA                                                                                                    \
  "{\"name\":\"speeding\",\"doc\":\"a row for every fix faster than the limit\","                                    \
  "\"params\":["                                                                                                     \
  "{\"name\":\"limit\",\"type\":\"number\",\"default\":30,\"min\":0,\"exclusiveMin\":true,\"doc\":\"the limit, in unit\"}," \
  "{\"name\":\"unit\",\"type\":\"enum\",\"values\":[\"m/s\",\"km/h\",\"mph\"],\"default\":\"m/s\",\"doc\":\"of limit\"}],"  \
  "\"output\":["                                                                                                     \
  "{\"name\":\"row\",\"type\":\"row\",\"doc\":\"the fix\"},"                                                         \
  "{\"name\":\"speed\",\"type\":\"f32\",\"doc\":\"m/s\"},"                                                           \
  "{\"name\":\"over\",\"type\":\"f32\",\"doc\":\"m/s above the limit\"}],"                                           \
  "\"counters\":[\"skipped\",\"lostRows\",\"fast\"]}"
#include "geoflux_kernel.h"

enum { P_LIMIT, P_UNIT };             /* params, in schema order */
enum { C_SKIPPED, C_LOST, C_FAST };   /* counters, in schema order */
static const double TO_MS[] = {1, 1 / 3.6, 0.44704};

static double limit; /* m/s */
static double skipped, lost, fast;

GF_EXPORT(init) int32_t init(const void *params, int32_t len) {
  if (gf_take_params(params, len, 2)) return -1;
  uint32_t unit = gf_param_u32(P_UNIT);
  if (unit > 2) return gf_fail("unit must be m/s, km/h or mph");
  limit = gf_param_f64(P_LIMIT) * TO_MS[unit];
  if (!(limit > 0)) return gf_fail("limit must be a positive speed");
  return 0;
}

GF_EXPORT(process) int32_t process(const void *batch, int32_t n, void *out, int32_t cap) {
  gf_batch b = gf_columns(batch, n);
  uint32_t *row = GF_COLUMN(uint32_t, out, cap, 0);
  float *speed = GF_COLUMN(float, out, cap, 4);
  float *over = GF_COLUMN(float, out, cap, 8);
  int32_t rows = 0;
  for (int32_t i = 0; i < n; i++) {
    if (gf_bad_coordinates(b.lon[i], b.lat[i])) {
      skipped++;
      continue;
    }
    if (!(b.speed[i] > limit)) continue; /* NaN: no speed, not fast */
    fast++;
    if (rows == cap) {
      lost++;
      continue;
    }
    row[rows] = (uint32_t)i;
    speed[rows] = b.speed[i];
    /* to the cm/s, in double, before it becomes an f32: 16.67 m/s over 13.9 was 2.7700005, noise of the
       f32 speed's, which every alert line printed */
    over[rows] = (float)(floor((b.speed[i] - limit) * 100 + 0.5) / 100);
    rows++;
  }
  return rows;
}

/* nothing is held back: every row comes with its fix */
GF_EXPORT(flush) int32_t flush(void *out, int32_t cap) { return 0; }

GF_EXPORT(counter) double counter(int32_t i) {
  switch (i) {
    case C_SKIPPED: return skipped;
    case C_LOST: return lost;
    case C_FAST: return fast;
    default: return NAN;
  }
}
