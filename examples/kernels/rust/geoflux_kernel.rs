//! The geoflux kernel ABI, version 2 (docs/kernel-abi.md), for kernels in Rust: the exports every kernel
//! shares (abi_version, the schema, alloc/dealloc, the error buffer), the batch's columns, the params block's
//! slots, the output's columns and a snapshot's bytes. A kernel declares `mod geoflux_kernel;`, a
//! `pub const SCHEMA: &str` (its schema, JSON), and exports init, process, flush and counter.
//!
//!   rustc --edition 2021 --target wasm32-wasi --crate-type cdylib -O -C strip=symbols -C link-arg=--import-memory k.rs

// a kernel uses what it needs of this
#![allow(dead_code)]

use std::alloc::{alloc as heap_alloc, dealloc as heap_dealloc, Layout};

static mut ERROR: &str = "";

#[no_mangle]
pub extern "C" fn abi_version() -> i32 {
    2
}

#[no_mangle]
pub extern "C" fn schema_ptr() -> *const u8 {
    crate::SCHEMA.as_ptr()
}

#[no_mangle]
pub extern "C" fn schema_len() -> i32 {
    crate::SCHEMA.len() as i32
}

// a block remembers its size 8 bytes before what the host gets, for dealloc's Layout
#[no_mangle]
pub extern "C" fn alloc(size: i32) -> *mut u8 {
    unsafe {
        let p = heap_alloc(Layout::from_size_align_unchecked(size as usize + 8, 8));
        *(p as *mut usize) = size as usize;
        p.add(8)
    }
}

#[no_mangle]
pub extern "C" fn dealloc(ptr: *mut u8) {
    unsafe {
        let p = ptr.sub(8);
        heap_dealloc(p, Layout::from_size_align_unchecked(*(p as *const usize) + 8, 8));
    }
}

#[no_mangle]
pub extern "C" fn error_ptr() -> *const u8 {
    unsafe { ERROR.as_ptr() }
}

#[no_mangle]
pub extern "C" fn error_len() -> i32 {
    unsafe { ERROR.len() as i32 }
}

/// Records the reason for the host and returns the status to hand back.
pub fn fail(reason: &'static str) -> i32 {
    unsafe { ERROR = reason };
    -1
}

/// n fixes as columns, the layout of codecs/gps-batch.ts; speed, heading and accuracy are NaN when unknown.
pub struct Batch<'a> {
    pub t: &'a [f64],
    pub lon: &'a [f64],
    pub lat: &'a [f64],
    pub speed: &'a [f32],
    pub heading: &'a [f32],
    pub accuracy: &'a [f32],
    /// ids the host keeps for a device across batches
    pub device: &'a [u32],
}

impl<'a> Batch<'a> {
    pub unsafe fn at(ptr: *const u8, n: i32) -> Batch<'a> {
        let n = n as usize;
        let col = |at: usize| ptr.add(at * n);
        Batch {
            t: std::slice::from_raw_parts(col(0) as *const f64, n),
            lon: std::slice::from_raw_parts(col(8) as *const f64, n),
            lat: std::slice::from_raw_parts(col(16) as *const f64, n),
            speed: std::slice::from_raw_parts(col(24) as *const f32, n),
            heading: std::slice::from_raw_parts(col(28) as *const f32, n),
            accuracy: std::slice::from_raw_parts(col(32) as *const f32, n),
            device: std::slice::from_raw_parts(col(36) as *const u32, n),
        }
    }
}

/// NaN, infinite or out-of-range coordinates: a fix every kernel counts and skips.
pub fn bad_coordinates(lon: f64, lat: f64) -> bool {
    !(lon >= -180.0 && lon <= 180.0 && lat >= -90.0 && lat <= 90.0)
}

/// The params block: an 8-byte slot per declared param, in schema order.
pub struct Params(*const u8);

impl Params {
    pub unsafe fn take(ptr: *const u8, len: i32, count: i32) -> Result<Params, i32> {
        if len < 8 * count {
            return Err(fail("params block shorter than the declared params"));
        }
        Ok(Params(ptr))
    }
    pub fn f64(&self, i: usize) -> f64 {
        unsafe { (self.0.add(8 * i) as *const f64).read_unaligned() }
    }
    /// a boolean (0 or 1) or an enum (the index of its value)
    pub fn u32(&self, i: usize) -> u32 {
        unsafe { (self.0.add(8 * i) as *const u32).read_unaligned() }
    }
}

/// `cap` rows as columns at `out`: a column starts after `cap` times the widths of the fields before it.
pub struct Columns {
    out: *mut u8,
    cap: usize,
}

impl Columns {
    pub fn at(out: *mut u8, cap: i32) -> Columns {
        Columns { out, cap: cap as usize }
    }
    pub fn cap(&self) -> usize {
        self.cap
    }
    pub unsafe fn f64(&self, bytes_before: usize) -> &mut [f64] {
        std::slice::from_raw_parts_mut(self.out.add(self.cap * bytes_before) as *mut f64, self.cap)
    }
    pub unsafe fn u32(&self, bytes_before: usize) -> &mut [u32] {
        std::slice::from_raw_parts_mut(self.out.add(self.cap * bytes_before) as *mut u32, self.cap)
    }
}

/// A snapshot being written: little-endian values, in the order the kernel reads them back.
#[derive(Default)]
pub struct StateWriter(pub Vec<u8>);

impl StateWriter {
    pub fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// snapshot()'s answer: the size, and the bytes when they fit in `cap`
    pub fn hand_over(&self, ptr: *mut u8, cap: i32) -> i32 {
        if self.0.len() <= cap as usize {
            unsafe { std::ptr::copy_nonoverlapping(self.0.as_ptr(), ptr, self.0.len()) };
        }
        self.0.len() as i32
    }
}

/// A snapshot being read: None past its end, so a short snapshot is refused rather than read past.
pub struct StateReader<'a>(pub &'a [u8]);

impl<'a> StateReader<'a> {
    pub unsafe fn at(ptr: *const u8, len: i32) -> StateReader<'a> {
        StateReader(std::slice::from_raw_parts(ptr, len as usize))
    }
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        if self.0.len() < N {
            return None;
        }
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        head.try_into().ok()
    }
    pub fn f64(&mut self) -> Option<f64> {
        self.take::<8>().map(f64::from_le_bytes)
    }
    pub fn u32(&mut self) -> Option<u32> {
        self.take::<4>().map(u32::from_le_bytes)
    }
}
