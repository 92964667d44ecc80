import type { GpsBatch } from '../../codecs/gps-batch.ts';

/**
 * Device ids that stay the same across batches, for kernels that key per-device state by the device column
 * (a batch's own device column numbers its devices from 0 in each batch). `tag` gives bits a device's id
 * carries besides its number (roam marks its groups so: kernels/roam.ts); numbers stay below 2^30.
 */
export class StableIds {
  private readonly ids = new Map<string, number>();
  private readonly names = new Map<number, string>();

  constructor(private readonly tag: (device: string) => number = () => 0) {}

  /** writes the batch's device column, renumbered with stable ids, into `col` */
  into(b: GpsBatch, col: Uint32Array): void {
    const stable = b.devices.map((d) => this.id(d));
    for (let i = 0; i < b.n; i++) col[i] = stable[b.device[i]];
  }

  id(device: string): number {
    let id = this.ids.get(device);
    if (id === undefined) {
      this.ids.set(device, (id = (this.ids.size | this.tag(device)) >>> 0));
      this.names.set(id, device);
    }
    return id;
  }

  /** the id of a device seen, without making one */
  known(device: string): number | undefined {
    return this.ids.get(device);
  }

  name(id: number): string {
    return this.names.get(id)!;
  }

  entries(): [string, number][] {
    return [...this.ids];
  }

  replace(entries: [string, number][]): void {
    this.ids.clear();
    this.names.clear();
    for (const [d, id] of entries) {
      this.ids.set(d, id);
      this.names.set(id, d);
    }
  }
}
