import type { GpsBatch } from '../../codecs/gps-batch.ts';

/**
 * Device ids that stay the same across batches, for kernels that key per-device state by the device column
 * (a batch's own device column numbers its devices from 0 in each batch).
 */
export class StableIds {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];

  /** writes the batch's device column, renumbered with stable ids, into `col` */
  into(b: GpsBatch, col: Uint32Array): void {
    const stable = b.devices.map((d) => this.id(d));
    for (let i = 0; i < b.n; i++) col[i] = stable[b.device[i]];
  }

  id(device: string): number {
    let id = this.ids.get(device);
    if (id === undefined) {
      this.ids.set(device, (id = this.names.length));
      this.names.push(device);
    }
    return id;
  }

  /** the id of a device seen, without making one */
  known(device: string): number | undefined {
    return this.ids.get(device);
  }

  name(id: number): string {
    return this.names[id];
  }

  entries(): [string, number][] {
    return [...this.ids];
  }

  replace(entries: [string, number][]): void {
    this.ids.clear();
    this.names.length = 0;
    for (const [d, id] of entries) {
      this.ids.set(d, id);
      this.names[id] = d;
    }
  }
}
