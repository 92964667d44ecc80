import { describe, expect, it } from 'vitest';
import { setLogLevel } from '../../log/logger.ts';
import { freePort } from '../../testing/free-port.ts';
import { ingestTests } from '../../testing/ingest-tests.ts';
import { tcpDevice } from '../../testing/tcp-device.ts';
import { waitFor } from '../../testing/wait-for.ts';
import { KMH } from '../fix-intake.ts';
import { decodePacket } from './avl-packet.ts';

setLogLevel('silent');

/*
 * Sample bytes nobody here wrote. From Teltonika's public protocol document (wiki.teltonika-gps.com,
 * "Teltonika Data Sending Protocols", Codec 8 and Codec 8 Extended examples): the IMEI login of
 * 356307042441013 and one record each, with no satellites (position 0,0). From Traccar's decoder tests
 * (traccar/traccar src/test/java/org/traccar/protocol/TeltonikaProtocolDecoderTest.java): real trackers'
 * packets, Codec 8 with one and with three records, Codec 8E with one.
 */
const WIKI_IMEI = '000F333536333037303432343431303133';
const WIKI_CODEC8 = '000000000000003608010000016B40D8EA30010000000000000000000000000000000105021503010101425E0F01F10000601A014E0000000000000000010000C7CF';
const WIKI_CODEC8E = '000000000000004A8E010000016B412CEE000100000000000000000000000000000000010005000100010100010011001D00010010015E2C880002000B000000003544C87A000E000000001DD7E06A00000100002994';
const TRACCAR_CODEC8 = '000000000000004c08010000016818d500580009c28d9f1cb3757a00be00c60f0053000f06f0011503c80001011d00fc0007423799180053cdf80dce426f430f88190bb8560bb802f100005aa110002887e000010000ee8d';
const TRACCAR_CODEC8_3 =
  '00000000000000da08030000017fcedf499600280431be0eded45d0038012d100000fa100901000200b300b4004501500415034702fa00054232a1180000cd3b2fce281d43001f02c700000006f10000a029000000017fcedea99600280432070eded3dd00380046130009000f0801010200b300b400450150051502470205423276180009cd3b2fce281d43001f02c700000027f10000a0290000000179d50853180027f65d3f0ed67212001500f1110061000f0801010200b300b4004501500515034702054234f4180061cd53d1ce28c043003e02c700000147f1000000290003000052cb';
const TRACCAR_CODEC8E =
  '00000000000000818e0100000166e368a510000f0d8b5b20961c35008d010308000000000014000900ef0000f00100500100150400c800004501001e00002500002900000a00b5000800b60007004230dc0018000000430fcb0044005f001103de001200e50013001200240000000000000001010000113141314a433534343452373235323336370100005e99';
const hex = (h: string) => Buffer.from(h, 'hex');
const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const IMEI = '356307042441013';

const t = ingestTests();

describe('Codec 8 / 8E packets', () => {
  it("decodes the document's and Traccar's samples, CRC checked", () => {
    expect(decodePacket(hex(WIKI_CODEC8))).toMatchObject({ codec: 8, records: [{ t: 1560161086000, satellites: 0 }] });
    expect(decodePacket(hex(WIKI_CODEC8E))).toMatchObject({ codec: 0x8e, records: [{ t: 1560166592000, satellites: 0 }] });
    expect(decodePacket(hex(TRACCAR_CODEC8))).toMatchObject({ records: [{ lon: 16.3745183, lat: 48.1523066, angle: 198, satellites: 15, speed: 83 }] });
    expect(decodePacket(hex(TRACCAR_CODEC8E))).toMatchObject({ records: [{ lon: 25.2545883, lat: 54.6708533, angle: 259, satellites: 8 }] });
    const corrupt = hex(TRACCAR_CODEC8);
    corrupt[20] ^= 1;
    expect(decodePacket(corrupt)).toMatchObject({ error: expect.stringMatching(/CRC/) });
  });
});

describe('builtin:teltonika (Codec 8 / 8E over TCP)', () => {
  it('accepts an allowed IMEI, acks each packet with its record count, writes fixes, and acks 0 to a bad CRC', async () => {
    const port = await freePort();
    const running = await t.serve('teltonika', { port, imeis: [IMEI] });
    const tracker = await tcpDevice(port);
    tracker.send(hex(WIKI_IMEI));
    expect((await tracker.read(1))[0]).toBe(1);
    tracker.send(hex(WIKI_CODEC8));
    expect(await tracker.read(4)).toEqual(u32(1));
    tracker.send(hex(WIKI_CODEC8E));
    expect(await tracker.read(4)).toEqual(u32(1));
    // two packets in one write, the second in two pieces: framing is by the length field
    const three = hex(TRACCAR_CODEC8_3);
    tracker.send(Buffer.concat([hex(TRACCAR_CODEC8), three.subarray(0, 50)]));
    expect(await tracker.read(4)).toEqual(u32(1));
    tracker.send(three.subarray(50));
    expect(await tracker.read(4)).toEqual(u32(3));
    tracker.send(hex(TRACCAR_CODEC8E));
    expect(await tracker.read(4)).toEqual(u32(1));
    const corrupt = hex(TRACCAR_CODEC8);
    corrupt[30] ^= 0x40;
    tracker.send(corrupt);
    expect(await tracker.read(4)).toEqual(u32(0));

    const fixes = await running.waitFixes(5);
    expect(fixes.every((f) => f.deviceId === IMEI)).toBe(true);
    const vienna = fixes.find((f) => f.t === 1546604839000)!;
    expect(vienna).toMatchObject({ lon: 16.3745183, lat: 48.1523066, heading: 198 });
    expect(vienna.speed).toBeCloseTo(83 * KMH, 4);
    expect(fixes.map((f) => f.t).sort()).toEqual([1541413578000, 1546604839000, 1622776763160, 1648443173270, 1648443214230]);
    await waitFor(() => running.metric('geoflux_ingest_rejected_total', { reason: 'no_fix' }), { until: (n) => n === 2, what: "the document's two records without satellites, counted" });
    expect(await running.metric('geoflux_ingest_rejected_total', { reason: 'malformed' })).toBe(1);
    expect(await running.metric('geoflux_ingest_fixes_total', { source: 'devices' })).toBe(5);
  });

  it('refuses an IMEI not in imeis with 0x00 and closes, counted as auth', async () => {
    const port = await freePort();
    const running = await t.serve('teltonika', { port, imeis: ['350000000000001'] });
    const tracker = await tcpDevice(port);
    tracker.send(hex(WIKI_IMEI));
    expect((await tracker.read(1))[0]).toBe(0);
    await tracker.closed();
    await waitFor(() => running.metric('geoflux_ingest_rejected_total', { reason: 'auth' }), { until: (n) => n === 1, what: 'the refusal counted' });
  });
});
