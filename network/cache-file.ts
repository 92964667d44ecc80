import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Where what is derived from an input file (a road graph, areas) is kept between runs: `<input>.<hash>.<ext>`,
 * keyed by the input's content, so a changed input is derived again. It goes next to the input, except where
 * the input must not be touched: a read-only directory, or the project's shared data (`shared/data/`, which
 * nothing may edit); then into `.cache/networks/`. `cacheDir` (or GEOFLUX_CACHE_DIR) overrides both.
 */
export async function cacheFile(path: string, bytes: Uint8Array, ext: string, cacheDir?: string): Promise<string> {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const beside = !/[/\\]shared[/\\]data[/\\]/.test(path) && (await writable(dirname(path)));
  const dir = cacheDir ?? process.env.GEOFLUX_CACHE_DIR ?? (beside ? dirname(path) : resolve('.cache/networks'));
  return join(dir, `${basename(path)}.${hash}.${ext}`);
}

/** Writes a cache file whole or not at all: several threads of one serve may derive the same input at once. */
export async function writeCacheFile(file: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const part = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.part`;
  await writeFile(part, bytes);
  await rename(part, file);
}

async function writable(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
