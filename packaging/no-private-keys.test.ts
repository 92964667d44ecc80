import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { expect, it } from 'vitest';

/**
 * A private key in the repository is a key anyone who clones it holds: the demo zipper's self-signed pair is
 * made on first start in `.geoflux/` beside its workflow (transport/cert-store.ts) and ignored by git, and
 * this keeps any other key from being committed.
 */

const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

it('no tracked file holds a private key', () => {
  const files = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
  expect(files.length).toBeGreaterThan(100);
  // a file deleted in the work tree but not yet in the index is not committed content
  const withKeys = files.filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile() && PRIVATE_KEY.test(readFileSync(f, 'latin1')));
  expect(withKeys).toEqual([]);
});

it('git ignores the state serve keeps beside a workflow', () => {
  const ignored = execFileSync('git', ['check-ignore', '--no-index', '.geoflux/zipper-key.pem', 'workflows/examples/.geoflux/zipper-key.pem', 'some/where/.geoflux/zipper-cert.pem'], { encoding: 'utf8' });
  expect(ignored.trim().split('\n')).toHaveLength(3);
});
