import { toBatch, type GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { KernelError, KernelRunner, type KernelSetup } from './host/kernel-instance.ts';

const JSON_LINES = 1;

/**
 * A custom kernel (`kernel: ./my.wasm`) that writes newline-delimited JSON (docs/kernel-abi.md). A line
 * with `"row": i` concerns fix i of the batch; the host adds its deviceId, time and point when absent.
 */
export class JsonLinesKernel {
  private constructor(
    private readonly runner: KernelRunner,
    private readonly outBytes: number,
  ) {}

  static create(params: unknown, setup: KernelSetup & { outBytes?: number }): JsonLinesKernel {
    const runner = new KernelRunner(setup.module, (k) => {
      const format = (k.exports.output_format as (() => number) | undefined)?.();
      if (format !== JSON_LINES) throw new KernelError('a custom kernel must export output_format() returning 1 (JSON lines); see docs/kernel-abi.md');
      k.init(params);
    }, setup);
    return new JsonLinesKernel(runner, setup.outBytes ?? 4 * 1024 * 1024);
  }

  process(fixes: GpsBatch | readonly GpsRecord[]): Record<string, unknown>[] {
    const b = toBatch(fixes);
    const { k, out, n } = this.runner.process(b, this.outBytes, 1);
    return k
      .text(out, n)
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const e = JSON.parse(line) as Record<string, unknown>;
        const r = e.row;
        if (typeof r === 'number' && r >= 0 && r < b.n) {
          e.deviceId ??= b.devices[b.device[r]];
          e.time ??= new Date(b.t[r]).toISOString();
          e.point ??= [b.lon[r], b.lat[r]];
          delete e.row;
        }
        return e;
      });
  }

  get replaced(): number {
    return this.runner.replaced;
  }
}
