import { mkdtempSync, readdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import type * as fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { DeploymentStore, sha256 } from '../serve/deployment-store.ts';
import { endedPid } from '../testing/ended-pid.ts';
import { waitFor } from '../testing/wait-for.ts';
import { removeLeftoverWrites, writeAtomically } from './state-files.ts';

/**
 * What the disk and the process do to a write, which no test can make happen on a shared machine:
 * `full disk`, as the trial met it: the temporary file is created, and writing its bytes fails with ENOSPC
 * (this file handle's writeFile does what the kernel did there); `cut short`: the process ends between the
 * write and its rename (a second Ctrl-C as serve saves), which for the folder is a rename that never comes.
 */
let fault: 'full disk' | 'cut short' | undefined;
/** the renames a write cut short never made: [temporary file, path] */
const neverRenamed: string[][] = [];

vi.mock('node:fs/promises', async (actual) => {
  const fs = await actual<typeof fsPromises>();
  return {
    ...fs,
    open: async (...args: Parameters<typeof fs.open>) => {
      const h = await fs.open(...args);
      if (fault !== 'full disk' || !String(args[0]).endsWith('.tmp')) return h;
      return {
        writeFile: async () => {
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
        },
        sync: () => h.sync(),
        close: () => h.close(),
      };
    },
    rename: (...args: Parameters<typeof fs.rename>) => (fault === 'cut short' ? (neverRenamed.push(args.map(String)), new Promise<void>(() => {})) : fs.rename(...args)),
  };
});

const scratch = () => mkdtempSync(join(tmpdir(), 'geoflux-writes-'));

it('a module the store cannot write (a full disk): one line with its path and the errno, and no temporary file left', async () => {
  fault = 'full disk';
  const store = new DeploymentStore(scratch());
  const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  await expect(store.putModule(bytes)).rejects.toThrow(
    expect.objectContaining({ name: 'StateWriteError', message: `cannot write ${store.modulePath(sha256(bytes))}: no space left on device (ENOSPC)` }),
  );
  expect(readdirSync(join(store.dir, 'kernels'))).toEqual([]);
  await expect(store.save([])).rejects.toThrow(`cannot write ${join(store.dir, 'deployments.json')}: no space left on device (ENOSPC)`);
  expect(readdirSync(store.dir)).toEqual(['kernels']);
});

it('a write cut short leaves its temporary file: removeLeftoverWrites takes it once its writer is gone, and nothing else', async () => {
  fault = 'cut short';
  const dir = scratch();
  void writeAtomically(join(dir, 'deployments.json'), '[]\n', 0o600);
  const [[tmp]] = await waitFor(() => neverRenamed, { what: 'the write to reach its rename', until: (r) => r.length === 1 });
  fault = undefined;
  // a write that ended, beside it
  await writeAtomically(join(dir, 'sink-ids.json'), '{}', 0o600);
  expect(readdirSync(dir).sort()).toEqual([basename(tmp), 'sink-ids.json'].sort());
  // its writer (this process) runs: it may still be writing (a worker sharing the state folder)
  expect(await removeLeftoverWrites([dir, join(dir, 'missing')])).toEqual({ removed: [], failed: [] });
  // the same write, by a process that has ended
  const gone = join(dir, basename(tmp).replace(`.${process.pid}.`, `.${endedPid()}.`));
  renameSync(tmp, gone);
  expect(await removeLeftoverWrites([dir, join(dir, 'missing')])).toEqual({ removed: [gone], failed: [] });
  expect(readdirSync(dir)).toEqual(['sink-ids.json']);
});

it("a leftover of this process's own pid from before it started (a container's serve has the same pid every run) is taken; one written since is not", async () => {
  const dir = scratch();
  const before = join(dir, `deployments.json.${process.pid}.0badc0de.tmp`);
  const since = join(dir, `sink-ids.json.${process.pid}.0ddba11a.tmp`);
  writeFileSync(before, '[');
  writeFileSync(since, '{');
  const started = Date.now() - process.uptime() * 1000;
  utimesSync(before, new Date(started - 60_000), new Date(started - 60_000));
  expect(await removeLeftoverWrites([dir])).toEqual({ removed: [before], failed: [] });
  expect(readdirSync(dir)).toEqual([basename(since)]);
});
