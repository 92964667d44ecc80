import { decodeGpsBatch, encodeGpsBatch, selectRows } from '../codecs/gps-batch.ts';

/**
 * Splits a GPS batch payload by the owner of each row's device, so a batch from a gateway carrying many
 * vehicles still sends every vehicle to its one instance. The owner is looked up once per device, not per
 * row; a batch with a single owner is passed on untouched.
 */
export function splitBatchByDevice<C>(payload: Uint8Array, ownerOf: (deviceId: string) => C): Map<C, Uint8Array> {
  const b = decodeGpsBatch(payload);
  const owners = b.devices.map(ownerOf);
  const distinct = new Set(owners);
  if (distinct.size <= 1) return new Map(distinct.size === 1 ? [[owners[0], payload]] : []);
  const rows = new Map<C, number[]>();
  for (let i = 0; i < b.n; i++) {
    const o = owners[b.device[i]];
    const list = rows.get(o);
    if (list) list.push(i);
    else rows.set(o, [i]);
  }
  return new Map([...rows].map(([o, r]) => [o, encodeGpsBatch(selectRows(b, r))]));
}
