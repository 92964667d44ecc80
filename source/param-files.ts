import { access, constants } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * Checks that the files a source's params name (a path, or a list of paths, relative to `dir`) can be read,
 * before the source runs: a missing one then stops serve at that param's line (the error's `problems` name
 * it), as a function's missing fences file does, instead of a source that stops on its own while serve goes on.
 */
export async function checkParamFiles(params: Record<string, unknown>, dir: string, keys: string[]): Promise<void> {
  for (const key of keys) {
    const v = params[key];
    const paths = typeof v === 'string' ? [[v, [key]] as const] : Array.isArray(v) ? v.map((p, i) => [p, [key, i]] as const) : [];
    for (const [p, path] of paths) {
      if (typeof p !== 'string') continue;
      const file = resolve(dir, p);
      try {
        await access(file, constants.R_OK);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw Object.assign(new Error(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (e as Error).message})`}`), { problems: [{ path: [...path] }] });
      }
    }
  }
}
