import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errnoReason, makeFolder } from './state-files.ts';

const scratch = () => mkdtempSync(join(tmpdir(), 'geoflux-state-files-'));

describe('makeFolder', () => {
  it('under a file: names the file that stands where a folder should be, not the folder asked for', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'file'), '');
    const state = join(dir, 'file', 'deeper', 'state');
    await expect(makeFolder(state, 'the state folder')).rejects.toThrow(
      expect.objectContaining({ name: 'StateWriteError', message: `cannot create the state folder ${state}: ${join(dir, 'file')} is a file, not a folder (ENOTDIR)` }),
    );
  });

  // root writes in a folder chmod 0555 all the same: there, the ENOTDIR case above stands in for it
  it.skipIf(process.getuid?.() === 0)('under a folder it may not write in: names the first folder it could not make, and EACCES', async () => {
    const dir = scratch();
    mkdirSync(join(dir, 'ro'));
    chmodSync(join(dir, 'ro'), 0o555);
    const state = join(dir, 'ro', 'a', 'state');
    await expect(makeFolder(state, 'the state folder')).rejects.toThrow(`cannot create the state folder ${state}: ${join(dir, 'ro', 'a')}: permission denied (EACCES)`);
  });

  it('makes every folder of the path, and is content with one that is there', async () => {
    const state = join(scratch(), 'a', 'b', 'state');
    await makeFolder(state, 'the state folder');
    await makeFolder(state, 'the state folder');
  });
});

it("errnoReason: Node's message as its text and errno, the call left out", () => {
  expect(errnoReason(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }))).toBe('no space left on device (ENOSPC)');
  expect(errnoReason(new Error('something else'))).toBe('something else');
});
