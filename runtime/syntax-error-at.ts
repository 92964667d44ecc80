import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';

/**
 * `file:line:column: what the parser says` when a user's module does not parse, else undefined. Node's
 * SyntaxError from import() names neither file nor line, and tsx answers a TypeScript one with a require cycle,
 * so the file is parsed again, with esbuild (tsx's own parser), only once an import of it has failed.
 */
export async function syntaxErrorAt(file: string): Promise<string | undefined> {
  const { transform } = await import('esbuild');
  const source = await readFile(file, 'utf8').catch(() => undefined);
  if (source === undefined) return undefined;
  const loader = /^\.[cm]?ts$/.test(extname(file)) ? 'ts' : 'js';
  try {
    await transform(source, { loader, sourcefile: file, format: 'esm', logLevel: 'silent' });
    return undefined;
  } catch (e) {
    const first = (e as { errors?: { text: string; location: { line: number; column: number } | null }[] }).errors?.[0];
    if (!first) return undefined;
    // esbuild counts columns from 0, editors from 1
    return first.location ? `${file}:${first.location.line}:${first.location.column + 1}: ${first.text}` : `${file}: ${first.text}`;
  }
}
