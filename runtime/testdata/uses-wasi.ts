// used by runtime/own-worker.test.ts: what geoflux's kernel and function threads do first
import '../quiet-wasi-warning.ts';
import { loadKernelModule } from '../../kernels/host/load-module.ts';
import { KernelInstance } from '../../kernels/host/kernel-instance.ts';
import { nodeWasi } from '../../kernels/host/node-wasi.ts';

KernelInstance.create((await loadKernelModule('hotspot')).module, { wasi: nodeWasi });
