/*
 * The geoflux kernel ABI, version 2 (docs/kernel-abi.md), for kernels in C: the exports every kernel shares
 * (abi_version, the schema, alloc/dealloc, the error buffer), the batch's columns, the params block's slots and
 * the output's columns. Define GF_SCHEMA, the kernel's schema as a JSON string, then include this once, in
 * the kernel's one source file; write init, process, flush and counter (and, with state, snapshot/restore).
 *
 *   clang --target=wasm32-wasi -O2 -mexec-model=reactor -Wl,--import-memory -Wl,--strip-all -o k.wasm k.c
 */
#ifndef GEOFLUX_KERNEL_H
#define GEOFLUX_KERNEL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef GF_SCHEMA
#error "define GF_SCHEMA, the kernel's schema as a JSON string, before including geoflux_kernel.h"
#endif

/* a function the host calls, exported under its ABI name */
#define GF_EXPORT(name) __attribute__((export_name(#name)))

static const char gf_schema[] = GF_SCHEMA;
static const char *gf_error = "";

GF_EXPORT(abi_version) int32_t gf_abi_version(void) { return 2; }
GF_EXPORT(schema_ptr) const char *gf_schema_ptr(void) { return gf_schema; }
GF_EXPORT(schema_len) int32_t gf_schema_len(void) { return (int32_t)(sizeof gf_schema - 1); }
/* wasi-libc's malloc is 16-byte aligned, and never moves a block */
GF_EXPORT(alloc) void *gf_alloc(int32_t size) { return malloc((size_t)size); }
GF_EXPORT(dealloc) void gf_dealloc(void *p) { free(p); }
GF_EXPORT(error_ptr) const char *gf_error_ptr(void) { return gf_error; }
GF_EXPORT(error_len) int32_t gf_error_len(void) { return (int32_t)strlen(gf_error); }

/* Records the reason for the host (a string that outlives the call) and returns the status to hand back. */
static inline int32_t gf_fail(const char *reason) {
  gf_error = reason;
  return -1;
}

/* ---- the batch: n fixes as columns, the layout of codecs/gps-batch.ts */
typedef struct {
  int32_t n;
  const double *t, *lon, *lat;            /* epoch ms, degrees */
  const float *speed, *heading, *accuracy; /* m/s, degrees, m: NaN when unknown */
  const uint32_t *device;                  /* ids the host keeps for a device across batches */
} gf_batch;

static inline gf_batch gf_columns(const void *batch, int32_t n) {
  const uint8_t *p = (const uint8_t *)batch;
  size_t m = (size_t)n;
  gf_batch b = {n, (const double *)p, (const double *)(p + 8 * m), (const double *)(p + 16 * m), (const float *)(p + 24 * m),
                (const float *)(p + 28 * m), (const float *)(p + 32 * m), (const uint32_t *)(p + 36 * m)};
  return b;
}

/* NaN, infinite or out-of-range coordinates: a fix every kernel counts and skips (NaN fails every comparison) */
static inline int gf_bad_coordinates(double lon, double lat) { return !(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90); }

/* ---- the params block: an 8-byte slot per declared param, in schema order */
static const uint8_t *gf_params;

/* Takes the block init() was given; fails when it is shorter than the kernel's `count` params. */
static inline int32_t gf_take_params(const void *block, int32_t len, int32_t count) {
  if (len < 8 * count) return gf_fail("params block shorter than the declared params");
  gf_params = (const uint8_t *)block;
  return 0;
}

static inline double gf_param_f64(int i) { double v; memcpy(&v, gf_params + 8 * i, 8); return v; }
static inline uint32_t gf_param_u32(int i) { uint32_t v; memcpy(&v, gf_params + 8 * i, 4); return v; }
static inline int gf_param_bool(int i) { return gf_param_u32(i) != 0; }
/* a string's, array's or data param's bytes or items, and how many */
static inline const void *gf_param_ptr(int i) { return (const void *)(uintptr_t)gf_param_u32(i); }
static inline uint32_t gf_param_len(int i) { uint32_t v; memcpy(&v, gf_params + 8 * i + 4, 4); return v; }

/* ---- output: `cap` rows as columns; a column starts after `cap` times the widths of the fields before it */
#define GF_COLUMN(type, out, cap, bytes_before) ((type *)((uint8_t *)(out) + (size_t)(cap) * (size_t)(bytes_before)))

#endif
