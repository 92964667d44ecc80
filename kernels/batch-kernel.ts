import type { GpsBatch } from '../codecs/gps-batch.ts';
import type { KernelState } from './kernel.ts';

/** What the kernel operator and a workflow need of any kernel, in this thread or its own: batches in, events out. */
export interface BatchKernel {
  process(b: GpsBatch): unknown[] | Promise<unknown[]>;
  /** events still held at the end of input (hotspot's window in progress, mapmatch's lag) */
  flush?(): unknown[] | Promise<unknown[]>;
  /** the state of some devices, for another instance to import (Kernel.exportDevices): what moves with a partition */
  exportDevices?(devices: readonly string[]): Uint8Array | Promise<Uint8Array>;
  /** adds (or replaces) the devices of an export, leaving the others as they are */
  importDevices?(bytes: Uint8Array): void | Promise<void>;
  /** forgets devices whose partition has gone elsewhere; how many were held */
  dropDevices?(devices: readonly string[]): number | Promise<number>;
  /** its state moves only all of it (hotspot's windows: docs/kernel-abi.md, Devices moving), by snapshot and restore */
  readonly movesWholeOnly?: boolean;
  /** all of its state (a kernel in this thread) */
  snapshot?(): KernelState;
  /** replaces all of its state with a snapshot's (of a kernel with the same params and data) */
  restore?(s: KernelState): void;
  /** its own counters by the names its schema declares, as they are now (a kernel in this thread) */
  counters?(): Record<string, number>;
  /** frees what outlives the stream (a kernel thread) */
  close?(): void | Promise<void>;
}
