//! stops: a row when a vehicle has stayed within `radius` metres for `minDuration` seconds ("stopped",
//! once per stop), and one when it leaves a stop ("moved"). A geoflux kernel in Rust with per-device state,
//! which it hands over through snapshot and restore (docs/kernel-abi.md), so a trap does not forget who was
//! stopped where, and device by device (export_devices, import_devices, drop_devices), so a partition's
//! vehicles move to another instance with their stops.
//!
//!   geoflux kernel examples/kernels/rust/stops.wasm --params '{"radius": 25, "minDuration": 60}' trace.csv

mod geoflux_kernel;
use geoflux_kernel::{bad_coordinates, fail, Batch, Columns, Params, StateReader, StateWriter};
use std::collections::BTreeMap;

pub const SCHEMA: &str = concat!(
    r#"{"name":"stops","doc":"where vehicles stop, and when they move on","#,
    r#""params":["#,
    r#"{"name":"radius","type":"number","default":30,"min":0,"exclusiveMin":true,"doc":"metres a stopped vehicle stays within"},"#,
    r#"{"name":"minDuration","type":"number","default":120,"min":0,"doc":"seconds it stays there before it counts as stopped"}],"#,
    r#""output":["#,
    r#"{"name":"row","type":"row","doc":"the fix that made the event"},"#,
    r#"{"name":"since","type":"time","doc":"when the stop began"},"#,
    r#"{"name":"lon","type":"f64","doc":"where: the stop's first fix"},"#,
    r#"{"name":"lat","type":"f64","doc":"where: the stop's first fix"},"#,
    r#"{"name":"detect","type":"enum","values":["stopped","moved"]}],"#,
    r#""counters":["skipped","lostRows","devices","stops"]}"#
);

const P_RADIUS: usize = 0;
const P_MIN_DURATION: usize = 1;
const STOPPED: u32 = 0;
const MOVED: u32 = 1;
const M_PER_DEG: f64 = 111_320.0;

/// Where a device has stayed since when, and whether that has been reported as a stop.
#[derive(Clone, Copy)]
struct Device {
    lon: f64,
    lat: f64,
    since: f64,
    stopped: bool,
}

struct Kernel {
    radius: f64,
    min_ms: f64,
    devices: BTreeMap<u32, Device>,
    skipped: f64,
    lost: f64,
    stops: f64,
}

// one kernel per instance (BTreeMap::new is not const in Rust 1.63, so it is made on first use)
static mut K: Option<Kernel> = None;

fn kernel() -> &'static mut Kernel {
    unsafe { K.get_or_insert_with(|| Kernel { radius: 30.0, min_ms: 120_000.0, devices: BTreeMap::new(), skipped: 0.0, lost: 0.0, stops: 0.0 }) }
}

fn metres(a: &Device, lon: f64, lat: f64) -> f64 {
    let dx = (lon - a.lon) * M_PER_DEG * ((lat + a.lat) * 0.5).to_radians().cos();
    let dy = (lat - a.lat) * M_PER_DEG;
    (dx * dx + dy * dy).sqrt()
}

#[no_mangle]
pub unsafe extern "C" fn init(params: *const u8, len: i32) -> i32 {
    let p = match Params::take(params, len, 2) {
        Ok(p) => p,
        Err(status) => return status,
    };
    let k = kernel();
    k.radius = p.f64(P_RADIUS);
    k.min_ms = p.f64(P_MIN_DURATION) * 1000.0;
    if !(k.radius > 0.0) || !(k.min_ms >= 0.0) {
        return fail("radius must be more than 0 metres, minDuration 0 seconds or more");
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn process(batch: *const u8, n: i32, out: *mut u8, cap: i32) -> i32 {
    let b = Batch::at(batch, n);
    let cols = Columns::at(out, cap);
    let (row, since, lon, lat, detect) = (cols.u32(0), cols.f64(4), cols.f64(12), cols.f64(20), cols.u32(28));
    let k = kernel();
    let mut rows = 0;
    for i in 0..n as usize {
        if bad_coordinates(b.lon[i], b.lat[i]) || !b.t[i].is_finite() {
            k.skipped += 1.0;
            continue;
        }
        let here = Device { lon: b.lon[i], lat: b.lat[i], since: b.t[i], stopped: false };
        let d = k.devices.entry(b.device[i]).or_insert(here);
        let mut event = None;
        if metres(d, b.lon[i], b.lat[i]) > k.radius {
            if d.stopped {
                event = Some((MOVED, *d));
            }
            *d = here;
        } else if !d.stopped && b.t[i] - d.since >= k.min_ms {
            d.stopped = true;
            k.stops += 1.0;
            event = Some((STOPPED, *d));
        }
        if let Some((kind, at)) = event {
            if rows == cols.cap() {
                k.lost += 1.0;
                continue;
            }
            row[rows] = i as u32;
            since[rows] = at.since;
            lon[rows] = at.lon;
            lat[rows] = at.lat;
            detect[rows] = kind;
            rows += 1;
        }
    }
    rows as i32
}

/// Nothing is held back: a stop is reported by the fix that makes it one.
#[no_mangle]
pub extern "C" fn flush(_out: *mut u8, _cap: i32) -> i32 {
    0
}

#[no_mangle]
pub extern "C" fn counter(i: i32) -> f64 {
    let k = kernel();
    match i {
        0 => k.skipped,
        1 => k.lost,
        2 => k.devices.len() as f64,
        3 => k.stops,
        _ => f64::NAN,
    }
}

// State: the counters, then per device u32 id · the device (f64 lon · f64 lat · f64 since · u32 stopped).

const DEVICE_BYTES: u32 = 28;

fn write_device(w: &mut StateWriter, d: &Device) {
    w.f64(d.lon);
    w.f64(d.lat);
    w.f64(d.since);
    w.u32(d.stopped as u32);
}

/// a device as written, or None when it cannot be one (a stop is made of a real fix: finite numbers)
fn read_device(r: &mut StateReader) -> Option<Device> {
    let d = Device { lon: r.f64()?, lat: r.f64()?, since: r.f64()?, stopped: r.u32()? != 0 };
    if d.lon.is_finite() && d.lat.is_finite() && d.since.is_finite() { Some(d) } else { None }
}

#[no_mangle]
pub extern "C" fn snapshot(ptr: *mut u8, cap: i32) -> i32 {
    let k = kernel();
    let mut w = StateWriter::default();
    for c in [k.skipped, k.lost, k.stops] {
        w.f64(c);
    }
    w.u32(k.devices.len() as u32);
    for (id, d) in k.devices.iter() {
        w.u32(*id);
        write_device(&mut w, d);
    }
    w.hand_over(ptr, cap)
}

#[no_mangle]
pub unsafe extern "C" fn restore(ptr: *const u8, len: i32) -> i32 {
    let mut r = StateReader::at(ptr, len);
    let read = |r: &mut StateReader| -> Option<(f64, f64, f64, BTreeMap<u32, Device>)> {
        let (skipped, lost, stops) = (r.f64()?, r.f64()?, r.f64()?);
        let mut devices = BTreeMap::new();
        for _ in 0..r.u32()? {
            let id = r.u32()?;
            devices.insert(id, read_device(r)?);
        }
        Some((skipped, lost, stops, devices))
    };
    match read(&mut r) {
        Some((skipped, lost, stops, devices)) if r.0.is_empty() => {
            let k = kernel();
            k.skipped = skipped;
            k.lost = lost;
            k.stops = stops;
            k.devices = devices;
            0
        }
        _ => fail("not a stops snapshot: it ends early or goes on past its devices"),
    }
}

// Devices moving (docs/kernel-abi.md): the ABI's frame with no shared part, each device as in a snapshot.

unsafe fn ids<'a>(ptr: *const u32, n: i32) -> &'a [u32] {
    std::slice::from_raw_parts(ptr, n.max(0) as usize)
}

#[no_mangle]
pub unsafe extern "C" fn export_devices(ids_ptr: *const u32, n: i32, ptr: *mut u8, cap: i32) -> i32 {
    let k = kernel();
    let held: Vec<(u32, &Device)> = ids(ids_ptr, n).iter().filter_map(|id| k.devices.get(id).map(|d| (*id, d))).collect();
    let mut w = StateWriter::default();
    w.u32(0);
    w.u32(held.len() as u32);
    for (id, d) in held {
        w.u32(id);
        w.u32(DEVICE_BYTES);
        write_device(&mut w, d);
    }
    w.hand_over(ptr, cap)
}

/// adds or replaces the devices given, all or none
#[no_mangle]
pub unsafe extern "C" fn import_devices(ptr: *const u8, len: i32) -> i32 {
    let mut r = StateReader::at(ptr, len);
    let read = |r: &mut StateReader| -> Option<Vec<(u32, Device)>> {
        if r.u32()? != 0 {
            return None;
        }
        let mut devices = Vec::new();
        for _ in 0..r.u32()? {
            let id = r.u32()?;
            if r.u32()? != DEVICE_BYTES {
                return None;
            }
            devices.push((id, read_device(r)?));
        }
        Some(devices)
    };
    match read(&mut r) {
        Some(devices) if r.0.is_empty() => {
            let k = kernel();
            for (id, d) in devices {
                k.devices.insert(id, d);
            }
            0
        }
        _ => fail("not a stops device export: it ends early, or a device is not one of this kernel's"),
    }
}

#[no_mangle]
pub unsafe extern "C" fn drop_devices(ids_ptr: *const u32, n: i32) -> i32 {
    let k = kernel();
    ids(ids_ptr, n).iter().filter(|id| k.devices.remove(id).is_some()).count() as i32
}
