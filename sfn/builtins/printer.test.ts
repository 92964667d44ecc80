import { from, lastValueFrom } from 'rxjs';
import { afterEach, expect, it, vi } from 'vitest';
import printer from './printer.ts';

afterEach(() => vi.restoreAllMocks());

it('prints a fix’s f32 fields as written, not with their float32 noise (15.65999984741211)', async () => {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (lines.push(String(s)), true));
  const speed = new Float32Array([15.66])[0];
  await lastValueFrom(printer(from([{ kind: 'speeding', deviceId: 'truck-7', t: 1_700_000_000_000, speed }]), { name: 'printer', params: {}, log: undefined as never }));
  expect(lines).toEqual(['{"kind":"speeding","deviceId":"truck-7","t":1700000000000,"speed":15.66}\n']);
});
