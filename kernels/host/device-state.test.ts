import { describe, expect, it } from 'vitest';
import { frameDevices, unwrapDevices, wrapDevices } from './device-state.ts';

/** an export_devices frame: no shared bytes, device 7 with 3 bytes of state, device 9 with 1 */
function frame(): Uint8Array {
  const out = new Uint8Array(4 + 4 + (8 + 3) + (8 + 1));
  const v = new DataView(out.buffer);
  v.setUint32(4, 2, true);
  v.setUint32(8, 7, true);
  v.setUint32(12, 3, true);
  out.set([1, 2, 3], 16);
  v.setUint32(19, 9, true);
  v.setUint32(23, 1, true);
  out[27] = 4;
  return out;
}

describe('device state between hosts', () => {
  const wrapped = wrapDevices('geofence', frame(), (id) => `veh-${id}`);
  const ours = (d: string) => (d === 'veh-7' ? 100 : 200);

  it('unwraps a Node Buffer that is a view into its pool (a non-zero byteOffset) as it unwraps its own bytes, leaving it unchanged', () => {
    Buffer.from('something else first, so the next small Buffer starts inside the pool');
    const pooled = Buffer.from(wrapped);
    expect(pooled.byteOffset).toBeGreaterThan(0);
    const before = Buffer.from(pooled);
    const { frame: f, devices } = unwrapDevices('geofence', pooled, ours);
    expect(devices).toEqual(['veh-7', 'veh-9']);
    expect(frameDevices(f, 'geofence')).toEqual([100, 200]);
    expect([...f.subarray(16, 19), f[27]]).toEqual([1, 2, 3, 4]);
    expect(pooled.equals(before)).toBe(true);
  });

  it('reads names beyond ASCII as UTF-8, and refuses a name that is not UTF-8', () => {
    const names = wrapDevices('geofence', frame(), (id) => (id === 7 ? 'Zürich-7' : '東京-9'));
    expect(unwrapDevices('geofence', names, ours).devices).toEqual(['Zürich-7', '東京-9']);
    // the first name's first byte ("GFD1" · u32 8 · "geofence" · u32 2 · u32 length, then the name)
    const broken = new Uint8Array(wrapped);
    broken[24] = 0xff;
    expect(() => unwrapDevices('geofence', broken, ours)).toThrow('not a geofence device export: a name is not UTF-8');
  });
});
