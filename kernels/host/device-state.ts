import { KernelError } from './kernel-error.ts';

/**
 * The state of some devices as it travels between hosts (docs/kernel-abi.md, Devices moving): a kernel's
 * export_devices frame names devices by the ids of the host that ran it, which mean nothing to another
 * host, so the frame is carried with the device ids as strings and the kernel's name:
 *
 *   "GFD1" · u32 name bytes · name · u32 devices · devices × (u32 bytes · UTF-8 device id) · frame
 *
 * with each device field of the frame replaced by its index in that list. Little-endian, like the frame.
 */

const MAGIC = 0x31444647; // "GFD1"
const utf8 = new TextEncoder();
const text = new TextDecoder('utf-8', { fatal: true });

/**
 * ASCII bytes as text, byte by byte; undefined for any other byte. Device names are nearly always ASCII, and a
 * fatal TextDecoder call per name cost a wake of 1,000 devices ~0.2 ms (0.05 ms so).
 */
function asciiText(b: Uint8Array): string | undefined {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    if (b[i] > 0x7f) return undefined;
    s += String.fromCharCode(b[i]);
  }
  return s;
}

/** where the device fields of a frame are: u32 sharedBytes · shared · u32 count · count × { u32 device · u32 bytes · bytes } */
function deviceFields(frame: Uint8Array, what: string): number[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const u32 = (at: number) => {
    if (at + 4 > frame.length) throw new KernelError(`${what}: it ends early`);
    return view.getUint32(at, true);
  };
  let at = 4 + u32(0);
  const count = u32(at);
  at += 4;
  const fields: number[] = [];
  for (let i = 0; i < count; i++) {
    fields.push(at);
    at += 8 + u32(at + 4);
  }
  if (at !== frame.length) throw new KernelError(`${what}: ${at > frame.length ? 'a device goes on past its end' : 'bytes after its last device'}`);
  return fields;
}

/** the device ids of a frame the kernel wrote, in its order */
export function frameDevices(frame: Uint8Array, kernel: string): number[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return deviceFields(frame, `kernel ${kernel} wrote a malformed export_devices frame`).map((at) => view.getUint32(at, true));
}

/** A frame from export_devices, its device ids (the host's) named, made into what another host can import. */
export function wrapDevices(kernel: string, frame: Uint8Array, name: (id: number) => string): Uint8Array {
  const ids = frameDevices(frame, kernel);
  const names = ids.map((id) => utf8.encode(name(id)));
  const kernelName = utf8.encode(kernel);
  const head = 12 + kernelName.length + names.reduce((n, b) => n + 4 + b.length, 0);
  const out = new Uint8Array(head + frame.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, kernelName.length, true);
  out.set(kernelName, 8);
  let at = 8 + kernelName.length;
  view.setUint32(at, names.length, true);
  at += 4;
  for (const b of names) {
    view.setUint32(at, b.length, true);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  out.set(frame, at);
  const fields = deviceFields(out.subarray(at), kernel);
  fields.forEach((f, i) => view.setUint32(at + f, i, true));
  return out;
}

/** What wrapDevices made, read: the kernel that wrote it, its device ids, and where the frame begins. */
function readWrapped(bytes: Uint8Array, kernel: string): { from: string; devices: string[]; at: number } {
  const bad = (why: string) => new KernelError(`not a ${kernel} device export: ${why}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number) => {
    if (at + 4 > bytes.length) throw bad('it ends early');
    return view.getUint32(at, true);
  };
  const str = (at: number, len: number) => {
    if (at + len > bytes.length) throw bad('it ends early');
    const b = bytes.subarray(at, at + len);
    try {
      return asciiText(b) ?? text.decode(b);
    } catch {
      throw bad('a name is not UTF-8');
    }
  };
  if (u32(0) !== MAGIC) throw bad('it does not begin with GFD1');
  const nameLen = u32(4);
  const from = str(8, nameLen);
  let at = 8 + nameLen;
  const count = u32(at);
  at += 4;
  const devices: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = u32(at);
    devices.push(str(at + 4, len));
    at += 4 + len;
  }
  return { from, devices, at };
}

/** What wrapDevices made, back to a frame for this host's kernel: the device ids its own (`id` gives them). */
export function unwrapDevices(kernel: string, bytes: Uint8Array, id: (device: string, index: number) => number): { frame: Uint8Array; devices: string[] } {
  const { from, devices, at } = readWrapped(bytes, kernel);
  const bad = (why: string) => new KernelError(`not a ${kernel} device export: ${why}`);
  if (from !== kernel) throw bad(`it holds the state of kernel ${from}`);
  // a copy of its own: a Node Buffer's slice() is a view, often into Buffer's shared pool, which the ids
  // written below would overwrite (and a DataView of its .buffer would read from the pool's start)
  const frame = new Uint8Array(bytes.subarray(at));
  const fview = new DataView(frame.buffer);
  for (const f of deviceFields(frame, `not a ${kernel} device export`)) {
    const i = fview.getUint32(f, true);
    if (i >= devices.length) throw bad(`device ${i} of a list of ${devices.length}`);
    fview.setUint32(f, id(devices[i], i), true);
  }
  return { frame, devices };
}

/**
 * An export that holds no state (no device, no shared part): a kernel's that keeps none, or one that holds no
 * device yet. Any kernel can take it, since there is nothing in it; one that cannot be read is not this.
 */
export function holdsNothing(bytes: Uint8Array): boolean {
  try {
    const { devices, at } = readWrapped(bytes, 'any');
    return devices.length === 0 && bytes.length - at === EMPTY_FRAME.length && bytes.subarray(at).every((b) => b === 0);
  } catch {
    return false;
  }
}

/** the frame of no device: what a kernel without state exports */
export const EMPTY_FRAME = new Uint8Array(8);

/** each device's own bytes in an export, by device id: to compare what two instances hold of a device */
export function deviceRecords(kernel: string, bytes: Uint8Array): Map<string, string> {
  const { frame, devices } = unwrapDevices(kernel, bytes, (_, i) => i);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const records = new Map<string, string>();
  for (const at of deviceFields(frame, `not a ${kernel} device export`)) records.set(devices[view.getUint32(at, true)], frame.subarray(at + 8, at + 8 + view.getUint32(at + 4, true)).join(','));
  return records;
}
