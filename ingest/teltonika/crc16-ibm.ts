/** CRC-16/IBM (ARC: polynomial 0x8005 reflected, initial 0), which Teltonika's AVL packets carry over codec id … record count. */
export function crc16Ibm(b: Uint8Array, from = 0, to = b.length): number {
  let crc = 0;
  for (let i = from; i < to; i++) {
    crc ^= b[i];
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}
