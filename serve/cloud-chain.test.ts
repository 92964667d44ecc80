import { describe, expect, it } from 'vitest';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import { setLogLevel } from '../log/logger.ts';
import { crossingFix, SQUARES } from '../testing/fence-squares.ts';
import { parseWorkflow } from '../workflows/load.ts';
import { CloudChain } from './cloud-chain.ts';
import { deployedFunction } from './deployment-store.ts';

setLogLevel('silent');

const wf = () =>
  parseWorkflow(
    [
      'name: chain',
      'listen: [quic://127.0.0.1:0]',
      // a state folder of its own: a serve locks its folder, and other test files serve beside this one
      'state: .geoflux/cloud-chain-test',
      'cluster: { nats: "nats://127.0.0.1:4222", partitions: 4 }',
      'tags: { gps: 16, fences: 17 }',
      'functions:',
      `  - { name: yard, observe: [gps], emit: fences, where: cloud, kernel: geofence, params: { fences: ${JSON.stringify(SQUARES)}, detect: [enter, exit] } }`,
    ].join('\n'),
    `${process.cwd()}/chain.yaml`,
  );

const second = (s: number) => batchFromRecords([0, 1, 2].map((v) => crossingFix(v, s)));
const origin = (seq: number) => ({ stream: 'chain', partition: 0, seq });

describe('the cloud functions of a worker', () => {
  it('drop a fix not newer than its device\'s last, counted, also after the partition moved', async () => {
    const a = await CloudChain.open(wf());
    try {
      for (let s = 0; s < 5; s++) await a.feed('gps', second(s), origin(s + 1));
      expect(a.kernels[0].stats.rows).toBe(15);
      // an edge's resend after a crash: the same fixes again, under new stream sequences
      await a.feed('gps', second(3), origin(6));
      await a.feed('gps', batchFromRecords([crossingFix(0, 4), crossingFix(1, 5)]), origin(7));
      expect(a.repeated).toBe(4);
      expect(a.kernels[0].stats.rows).toBe(16);
      const b = await CloudChain.open(wf());
      try {
        await b.importPartition(0, await a.exportPartition(0));
        await b.feed('gps', second(5), origin(8));
        expect(b.repeated).toBe(1);
        expect(b.kernels[0].stats.rows).toBe(2);
      } finally {
        await b.close(0);
      }
    } finally {
      await a.close(0);
    }
  });

  it('skip a fix from a clock set a year ahead, then the next two as late, and take the third: the device is not blinded', async () => {
    const a = await CloudChain.open(wf());
    try {
      const ahead = { ...crossingFix(0, 0), t: 365 * 86_400_000 };
      await a.feed('gps', batchFromRecords([crossingFix(0, 0), ahead]), origin(1));
      for (let s = 1; s <= 5; s++) await a.feed('gps', batchFromRecords([crossingFix(0, s)]), origin(s + 1));
      expect({ repeated: a.repeated, late: a.late, rows: a.kernels[0].stats.rows }).toEqual({ repeated: 0, late: 2, rows: 2 + 3 });
      // the streak of late fixes survives a move: the next worker takes the third
      const b = await CloudChain.open(wf());
      try {
        await a.feed('gps', batchFromRecords([ahead]), origin(7));
        await a.feed('gps', batchFromRecords([crossingFix(0, 6), crossingFix(0, 7)]), origin(8));
        await b.importPartition(0, await a.exportPartition(0));
        await b.feed('gps', batchFromRecords([crossingFix(0, 8)]), origin(9));
        expect({ late: b.late, rows: b.kernels[0].stats.rows }).toEqual({ late: 0, rows: 1 });
      } finally {
        await b.close(0);
      }
    } finally {
      await a.close(0);
    }
  });

  it('a version deployed --fresh-state starts empty where a checkpoint holds its predecessor\'s state; the other kernels keep theirs', async () => {
    const zones = (kernel: string, params: Record<string, unknown>) => deployedFunction({ observe: ['gps'], emit: ['fences'], params }, 'zones', kernel, 'cloud');
    const a = await CloudChain.open(wf());
    let checkpoint: Uint8Array;
    try {
      await a.deploy(zones('geofence', { fences: SQUARES, detect: ['enter', 'exit'] }));
      for (let s = 0; s < 25; s++) await a.feed('gps', second(s), origin(s + 1));
      expect(a.kernels.map((k) => k.stats.events)).toEqual([3, 3]);
      checkpoint = await a.exportPartition(0);
    } finally {
      await a.close(0);
    }
    const speeding = zones('examples/kernels/c/speeding.wasm', { limit: 50 });
    const refusing = await CloudChain.open(wf());
    try {
      await refusing.deploy(speeding);
      await expect(refusing.importPartition(0, checkpoint)).rejects.toThrow(/speeding/);
    } finally {
      await refusing.close(0);
    }
    const b = await CloudChain.open(wf());
    try {
      await b.deploy(speeding, true);
      await b.importPartition(0, checkpoint);
      await b.feed('gps', second(25), origin(26));
      // the yard's devices are inside already: no enter again
      expect(b.kernels[0].stats.events).toBe(0);
      expect(b.repeated).toBe(0);
    } finally {
      await b.close(0);
    }
  });
});
