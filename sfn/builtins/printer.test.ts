import { from, lastValueFrom } from 'rxjs';
import { afterEach, expect, it, vi } from 'vitest';
import printer from './printer.ts';

afterEach(() => vi.restoreAllMocks());

it('prints a fix’s f32 fields as written, not with their float32 noise (15.65999984741211), and no event id', async () => {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (lines.push(String(s)), true));
  const speed = new Float32Array([15.66])[0];
  // with the id an event leaves its function with, which is for a reader that drops repeats, not for the eye
  await lastValueFrom(printer(from([{ kind: 'speeding', deviceId: 'truck-7', t: 1_700_000_000_000, speed, id: 'speeding:truck-7:1700000000000:speeding:0' }]), { name: 'printer', params: {}, log: undefined as never }));
  expect(lines).toEqual(['{"kind":"speeding","deviceId":"truck-7","t":1700000000000,"speed":15.66}\n']);
});

it('prints no field\'s control characters raw: JSON lines that parse back to the record, readable alert lines', async () => {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (lines.push(String(s)), true));
  const record = { kind: 'speeding', deviceId: 'veh-1', t: 1_700_000_000_000, note: '\u001b[2J', csi: '\u009b2J' };
  for (const format of [undefined, 'alerts']) await lastValueFrom(printer(from([record]), { name: 'printer', params: { format }, log: undefined as never }));
  expect(lines.join('')).not.toMatch(/[\u001b\u009b]/);
  expect(JSON.parse(lines[0])).toEqual(record);
  expect(lines[1]).toContain('note=\\x1b[2J csi=\\x9b2J');
});
