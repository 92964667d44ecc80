import type { GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import type { KernelSchema } from './host/kernel-schema.ts';
import { Kernel, KernelStateFace, type KernelOptions, type KernelStats } from './kernel.ts';

/**
 * A kernel of your own (`kernel: ./my.wasm`, docs/kernel-abi.md): its rows as JSON objects, decoded by the
 * fields its schema declares (`{ "kind": <its name>, … }`), or its JSON lines. Any kernel runs this way,
 * the built-ins too: `geoflux kernel` prints what this returns.
 */
export class CustomKernel extends KernelStateFace {
  private constructor(kernel: Kernel) {
    super(kernel);
  }

  static create(params: unknown, setup: KernelOptions): CustomKernel {
    return new CustomKernel(Kernel.create(params, setup));
  }

  get schema(): KernelSchema {
    return this.kernel.schema;
  }

  process(fixes: GpsBatch | readonly GpsRecord[]): Record<string, unknown>[] {
    return this.kernel.objects(this.kernel.fit(fixes));
  }

  flush(): Record<string, unknown>[] {
    return this.kernel.flushObjects();
  }

  stats(): KernelStats {
    return this.kernel.stats();
  }

  /** instances replaced after a trap */
  get replaced(): number {
    return this.kernel.stats().replaced;
  }
}
