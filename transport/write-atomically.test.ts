import { mkdtempSync, readdirSync } from 'node:fs';
import type * as fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { DeploymentStore, sha256 } from '../serve/deployment-store.ts';

/**
 * A full disk, as the trial met it: the temporary file is created, and writing its bytes fails with ENOSPC.
 * (No test can fill a real disk on a shared machine; this writeFile does what the kernel did there.)
 */
vi.mock('node:fs/promises', async (actual) => {
  const fs = await actual<typeof fsPromises>();
  return {
    ...fs,
    writeFile: async (...args: Parameters<typeof fs.writeFile>) => {
      if (!String(args[0]).endsWith('.tmp')) return fs.writeFile(...args);
      await fs.writeFile(args[0], '');
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    },
  };
});

it('a module the store cannot write (a full disk): one line with its path and the errno, and no temporary file left', async () => {
  const store = new DeploymentStore(mkdtempSync(join(tmpdir(), 'geoflux-full-')));
  const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  await expect(store.putModule(bytes)).rejects.toThrow(
    expect.objectContaining({ name: 'StateWriteError', message: `cannot write ${store.modulePath(sha256(bytes))}: no space left on device (ENOSPC)` }),
  );
  expect(readdirSync(join(store.dir, 'kernels'))).toEqual([]);
  await expect(store.save([])).rejects.toThrow(`cannot write ${join(store.dir, 'deployments.json')}: no space left on device (ENOSPC)`);
  expect(readdirSync(store.dir)).toEqual(['kernels']);
});
