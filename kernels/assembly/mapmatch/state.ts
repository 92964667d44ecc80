// A device's whole matching state as snapshot bytes and back (docs/kernel-abi.md, State): its committed track,
// the frontier, and every pending column of the lattice with its candidates, so a restored instance goes on
// exactly where the one it was taken from would have.
import { StateReader, StateWriter } from '../abi';
import { edgeCount } from './graph';
import { Column, Device, Frontier } from './lattice';
import { K } from './params';
import { Track } from './traversals';

function writeTrack(w: StateWriter, tr: Track): void {
  w.bool(tr.on);
  w.u32(<u32>tr.edge);
  w.f64(tr.off);
  w.f64(tr.t);
  w.f64(tr.lon);
  w.f64(tr.lat);
  w.f64(tr.enterT);
  w.f64(tr.enterOff);
}

/** an edge of this graph: what a snapshot of another graph (or junk) fails, before any search follows it */
@inline function isEdge(e: i32): bool {
  return e >= 0 && e < edgeCount;
}

function readTrack(r: StateReader, tr: Track): bool {
  tr.on = r.bool();
  tr.edge = <i32>r.u32();
  tr.off = r.f64();
  tr.t = r.f64();
  tr.lon = r.f64();
  tr.lat = r.f64();
  tr.enterT = r.f64();
  tr.enterOff = r.f64();
  return !tr.on || isEdge(tr.edge);
}

function writeFrontier(w: StateWriter, f: Frontier): void {
  w.f64(f.t);
  w.f64(f.lon);
  w.f64(f.lat);
  w.f64(f.speed);
  w.u32(<u32>f.n);
  for (let b = 0; b < f.n; b++) {
    w.u32(<u32>f.edge[b]);
    w.f64(f.off[b]);
    w.f64(f.score[b]);
  }
}

function readFrontier(r: StateReader, f: Frontier): bool {
  f.t = r.f64();
  f.lon = r.f64();
  f.lat = r.f64();
  f.speed = r.f64();
  f.n = <i32>r.u32();
  if (f.n > K) return false;
  for (let b = 0; b < f.n; b++) {
    f.edge[b] = <i32>r.u32();
    if (!isEdge(f.edge[b])) return false;
    f.off[b] = r.f64();
    f.score[b] = r.f64();
  }
  return r.ok;
}

function writeColumn(w: StateWriter, c: Column): void {
  w.f64(c.t);
  w.f64(c.lon);
  w.f64(c.lat);
  w.f64(c.speed);
  w.u32(c.kind);
  w.bool(c.start);
  w.u32(<u32>c.n);
  for (let b = 0; b < c.n; b++) {
    w.u32(<u32>c.edge[b]);
    w.f64(c.off[b]);
    w.f64(c.emit[b]);
    w.u32(<u32>c.back[b]);
    w.f64(<f64>c.route[b]);
  }
}

function readColumn(r: StateReader, c: Column): bool {
  c.t = r.f64();
  c.lon = r.f64();
  c.lat = r.f64();
  c.speed = r.f64();
  const kind = r.u32();
  c.start = r.bool();
  c.n = <i32>r.u32();
  if (kind > 3 || c.n > K) return false;
  c.kind = <u8>kind;
  if (c.n > 0) c.holdCandidates();
  for (let b = 0; b < c.n; b++) {
    c.edge[b] = <i32>r.u32();
    if (!isEdge(c.edge[b])) return false;
    c.off[b] = r.f64();
    c.emit[b] = r.f64();
    c.back[b] = <i32>r.u32();
    if (c.back[b] < -1 || c.back[b] >= K) return false;
    c.route[b] = <f32>r.f64();
  }
  return r.ok;
}

export function writeDevice(w: StateWriter, d: Device): void {
  w.f64(d.lastT);
  writeTrack(w, d.track);
  w.u32(<u32>d.trackRow);
  writeFrontier(w, d.front);
  w.bool(d.linked);
  w.u32(<u32>d.last);
  w.u32(<u32>d.detached);
  w.u32(<u32>d.withCandidates);
  w.u32(<u32>d.count);
  for (let i = 0; i < d.count; i++) writeColumn(w, d.col(i));
}

/** the device a snapshot holds, or null when it is not one of this kernel's */
export function readDevice(r: StateReader): Device | null {
  const d = new Device();
  d.lastT = r.f64();
  if (!readTrack(r, d.track)) return null;
  d.trackRow = <i32>r.u32();
  if (!readFrontier(r, d.front)) return null;
  d.linked = r.bool();
  d.last = <i32>r.u32();
  d.detached = <i32>r.u32();
  d.withCandidates = <i32>r.u32();
  const count = <i32>r.u32();
  if (!r.ok || count < 0 || count > 1 << 16 || d.last >= count || d.detached >= count || d.last < -1 || d.detached < -1) return null;
  for (let i = 0; i < count; i++) if (!readColumn(r, d.push())) return null;
  return d;
}
