/*
 * inside: which fences each fix is inside. The geofence kernel's containment (kernels/assembly/geofence.ts,
 * AssemblyScript) and bench/geofence-ts.ts (TypeScript) in C, with the same algorithm, so `npm run bench --
 * kernels` compares languages, not algorithms: a 64×64 grid over the fence boxes picks candidate fences; in a
 * polygon, latitude slabs list the edges that span each band, so a ray cast reads only the edges at the fix's
 * latitude. A point on an edge is inside (as Turf's booleanPointInPolygon). The fences arrive compiled, as
 * the `fences` param (docs/kernel-abi.md, Fence binary), and are read in place.
 */
#define GF_SCHEMA                                                                                               \
  "{\"name\":\"inside\",\"doc\":\"a row per fence containing each fix\","                                      \
  "\"params\":[{\"name\":\"fences\",\"type\":\"fences\",\"required\":true,"                                    \
  "\"doc\":\"GeoJSON Polygons and MultiPolygons (with holes), Points with properties.radius (m) as circles\"}]," \
  "\"output\":[{\"name\":\"row\",\"type\":\"row\",\"doc\":\"the fix\"},"                                        \
  "{\"name\":\"fence\",\"type\":\"fence\",\"doc\":\"a fence containing it\"}],"                                 \
  "\"counters\":[\"skipped\",\"lostRows\"]}"
#include "geoflux_kernel.h"

enum { P_FENCES };
enum { C_SKIPPED, C_LOST };

#define KIND_CIRCLE 2
#define GRID 64
#define M_PER_DEG 111320.0
#define RAD (3.14159265358979323846 / 180)

typedef struct { uint32_t kind, first_part, parts, unused; double box[4], centre[2], radius; } fence_t;
typedef struct { uint32_t first_ring, rings; } part_t;
typedef struct { uint32_t first, count; } ring_t;
typedef struct { double x, y; } coord_t;

static const fence_t *fences;
static const part_t *parts;
static const ring_t *rings;
static const coord_t *coords;
static uint32_t n_fences, n_parts;

/* per part: its bands of latitude; per band (numbered across all parts): the edges spanning it */
static int32_t *part_band0, *part_bands;
static double *part_min_y, *part_band_h;
static uint32_t *slab_start, *slab_edges; /* an edge is the index of its first coordinate */

static double grid_x, grid_y, cell_w, cell_h;
static uint32_t grid_start[GRID * GRID + 1], *grid_fences;

static double skipped, lost;

static int32_t clamp(int32_t b, int32_t n) { return b < 0 ? 0 : b >= n ? n - 1 : b; }
static int32_t gx(double x) { return clamp((int32_t)floor((x - grid_x) / cell_w), GRID); }
static int32_t gy(double y) { return clamp((int32_t)floor((y - grid_y) / cell_h), GRID); }
static int32_t band_of(uint32_t p, double y) { return clamp((int32_t)floor((y - part_min_y[p]) / part_band_h[p]), part_bands[p]); }

/* for each part, each edge into the bands it spans: counted first (place == 0), then placed */
static void slab_pass(uint32_t *place) {
  for (uint32_t p = 0; p < n_parts; p++) {
    for (uint32_t r = parts[p].first_ring; r < parts[p].first_ring + parts[p].rings; r++) {
      for (uint32_t c = rings[r].first; c + 1 < rings[r].first + rings[r].count; c++) {
        double ya = fmin(coords[c].y, coords[c + 1].y), yb = fmax(coords[c].y, coords[c + 1].y);
        for (int32_t b = band_of(p, ya); b <= band_of(p, yb); b++) {
          uint32_t s = (uint32_t)(part_band0[p] + b);
          if (place) slab_edges[place[s]++] = c;
          else slab_start[s + 1]++;
        }
      }
    }
  }
}

static int32_t build_slabs(void) {
  part_band0 = malloc(n_parts * sizeof *part_band0);
  part_bands = malloc(n_parts * sizeof *part_bands);
  part_min_y = malloc(n_parts * sizeof *part_min_y);
  part_band_h = malloc(n_parts * sizeof *part_band_h);
  int32_t total = 0;
  for (uint32_t p = 0; p < n_parts; p++) {
    double min_y = INFINITY, max_y = -INFINITY;
    int32_t edges = 0;
    for (uint32_t r = parts[p].first_ring; r < parts[p].first_ring + parts[p].rings; r++) {
      edges += (int32_t)rings[r].count - 1;
      for (uint32_t c = rings[r].first; c < rings[r].first + rings[r].count; c++) min_y = fmin(min_y, coords[c].y), max_y = fmax(max_y, coords[c].y);
    }
    int32_t bands = edges >> 3;
    bands = bands < 1 ? 1 : bands > 256 ? 256 : bands;
    double h = (max_y - min_y) / bands;
    part_band0[p] = total;
    part_bands[p] = bands;
    part_min_y[p] = min_y;
    part_band_h[p] = h > 0 ? h : 1;
    total += bands;
  }
  slab_start = calloc((size_t)total + 1, sizeof *slab_start);
  slab_pass(0);
  for (int32_t s = 0; s < total; s++) slab_start[s + 1] += slab_start[s];
  slab_edges = malloc(((size_t)slab_start[total] + 1) * sizeof *slab_edges);
  uint32_t *place = malloc(((size_t)total + 1) * sizeof *place);
  memcpy(place, slab_start, ((size_t)total + 1) * sizeof *place);
  slab_pass(place);
  free(place);
  return 0;
}

/* a 64×64 grid over all fence boxes; each cell lists the fences whose box touches it, in fence order */
static void grid_pass(uint32_t *place) {
  for (uint32_t i = 0; i < n_fences; i++) {
    const double *box = fences[i].box;
    for (int32_t y = gy(box[1]); y <= gy(box[3]); y++)
      for (int32_t x = gx(box[0]); x <= gx(box[2]); x++) {
        if (place) grid_fences[place[y * GRID + x]++] = i;
        else grid_start[y * GRID + x + 1]++;
      }
  }
}

static void build_grid(void) {
  double min_x = INFINITY, min_y = INFINITY, max_x = -INFINITY, max_y = -INFINITY;
  for (uint32_t i = 0; i < n_fences; i++) {
    min_x = fmin(min_x, fences[i].box[0]), min_y = fmin(min_y, fences[i].box[1]);
    max_x = fmax(max_x, fences[i].box[2]), max_y = fmax(max_y, fences[i].box[3]);
  }
  grid_x = min_x, grid_y = min_y;
  cell_w = (max_x - min_x) / GRID, cell_h = (max_y - min_y) / GRID;
  if (!(cell_w > 0)) cell_w = 1;
  if (!(cell_h > 0)) cell_h = 1;
  grid_pass(0);
  for (int32_t c = 0; c < GRID * GRID; c++) grid_start[c + 1] += grid_start[c];
  grid_fences = malloc(((size_t)grid_start[GRID * GRID] + 1) * sizeof *grid_fences);
  uint32_t place[GRID * GRID + 1];
  memcpy(place, grid_start, sizeof place);
  grid_pass(place);
}

GF_EXPORT(init) int32_t init(const void *params, int32_t len) {
  if (gf_take_params(params, len, 1)) return -1;
  const uint8_t *data = gf_param_ptr(P_FENCES);
  uint32_t size = gf_param_len(P_FENCES);
  if (size < 16) return gf_fail("no fences");
  const uint32_t *head = (const uint32_t *)data;
  n_fences = head[0], n_parts = head[1];
  uint32_t n_rings = head[2], n_coords = head[3];
  if (16 + (uint64_t)n_fences * sizeof(fence_t) + ((uint64_t)n_parts + n_rings) * 8 + (uint64_t)n_coords * 16 != size) return gf_fail("fence data length does not match its header");
  fences = (const fence_t *)(data + 16);
  parts = (const part_t *)(fences + n_fences);
  rings = (const ring_t *)(parts + n_parts);
  coords = (const coord_t *)(rings + n_rings);
  build_slabs();
  build_grid();
  return 0;
}

static int in_part(uint32_t p, double x, double y) {
  int32_t b = (int32_t)floor((y - part_min_y[p]) / part_band_h[p]);
  /* y outside the part's range can still lie on its top edge */
  if ((b < 0 || b >= part_bands[p]) && y != part_min_y[p] + part_band_h[p] * part_bands[p]) return 0;
  uint32_t s = (uint32_t)(part_band0[p] + clamp(b, part_bands[p]));
  int inside = 0;
  for (uint32_t j = slab_start[s]; j < slab_start[s + 1]; j++) {
    coord_t a = coords[slab_edges[j]], c = coords[slab_edges[j] + 1];
    if (fmin(a.y, c.y) <= y && y <= fmax(a.y, c.y) && fmin(a.x, c.x) <= x && x <= fmax(a.x, c.x) && (c.x - a.x) * (y - a.y) - (c.y - a.y) * (x - a.x) == 0) return 1;
    if ((a.y > y) != (c.y > y) && x < a.x + ((y - a.y) * (c.x - a.x)) / (c.y - a.y)) inside = !inside;
  }
  return inside;
}

static int contains(uint32_t i, double x, double y) {
  const fence_t *f = &fences[i];
  if (x < f->box[0] || x > f->box[2] || y < f->box[1] || y > f->box[3]) return 0;
  if (f->kind == KIND_CIRCLE) {
    double dx = (x - f->centre[0]) * M_PER_DEG * cos((f->centre[1] + y) * 0.5 * RAD), dy = (y - f->centre[1]) * M_PER_DEG;
    return sqrt(dx * dx + dy * dy) <= f->radius;
  }
  for (uint32_t p = f->first_part; p < f->first_part + f->parts; p++)
    if (in_part(p, x, y)) return 1;
  return 0;
}

GF_EXPORT(process) int32_t process(const void *batch, int32_t n, void *out, int32_t cap) {
  gf_batch b = gf_columns(batch, n);
  uint32_t *row = GF_COLUMN(uint32_t, out, cap, 0);
  uint32_t *fence = GF_COLUMN(uint32_t, out, cap, 4);
  int32_t rows = 0;
  for (int32_t i = 0; i < n; i++) {
    double x = b.lon[i], y = b.lat[i];
    if (gf_bad_coordinates(x, y)) {
      skipped++;
      continue;
    }
    if (x < grid_x || y < grid_y) continue;
    int32_t g = gy(y) * GRID + gx(x);
    for (uint32_t j = grid_start[g]; j < grid_start[g + 1]; j++) {
      if (!contains(grid_fences[j], x, y)) continue;
      if (rows == cap) {
        lost++;
        continue;
      }
      row[rows] = (uint32_t)i;
      fence[rows++] = grid_fences[j];
    }
  }
  return rows;
}

GF_EXPORT(flush) int32_t flush(void *out, int32_t cap) { return 0; }

GF_EXPORT(counter) double counter(int32_t i) { return i == C_SKIPPED ? skipped : i == C_LOST ? lost : NAN; }
