import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importModule } from './import-module.ts';

// a folder outside the checkout, no node_modules above it; and Node's own loader (the package's, from dist/),
// not the test runner's, which resolves packages from the checkout
const dir = mkdtempSync(join(tmpdir(), 'geoflux-import-'));
const IMPORT = pathToFileURL(resolve('dist/runtime/import-module.js')).href;
const refusal = (path: string): string =>
  execFileSync(process.execPath, ['--input-type=module', '-e', `import { importUserModule } from ${JSON.stringify(IMPORT)}; await importUserModule(${JSON.stringify(path)}, ${JSON.stringify(dir)}).then(() => console.log('loaded'), (e) => console.log(e.message));`], { encoding: 'utf8' }).trim();

describe('a user module that cannot be loaded', () => {
  it('is said to be missing when it is', () => {
    expect(refusal('./nope.mjs')).toBe(`cannot find module ${join(dir, 'nope.mjs')}`);
  });

  it('names the package it imports that is not installed, not itself', () => {
    writeFileSync(join(dir, 'fn.mjs'), "import { map } from 'rxjs';\nexport default map;\n");
    expect(refusal('./fn.mjs')).toMatch(`${join(dir, 'fn.mjs')} imports the package "rxjs", which is not installed where Node looks from that file`);
  });

  it('names the package a TypeScript module imports that is not installed (required, in a folder of its own)', () => {
    writeFileSync(join(dir, 'fn.ts'), "import { map } from 'rxjs';\nexport default map;\n");
    expect(refusal('./fn.ts')).toMatch(`${join(dir, 'fn.ts')} imports the package "rxjs", which is not installed where Node looks from that file`);
  });

  it('passes on what its own missing import says, naming that file', () => {
    writeFileSync(join(dir, 'uses-helper.mjs'), "import './helper.mjs';\n");
    expect(refusal('./uses-helper.mjs')).toMatch(/^Cannot find module '.*helper\.mjs' imported from .*uses-helper\.mjs/);
  });
});

describe('a user module that does not parse', () => {
  // an unclosed brace: the parser reaches the end of the file inside the function
  it.each(['ts', 'mjs'])('names the file, line and column and what the parser says (.%s)', (ext) => {
    writeFileSync(join(dir, `unclosed.${ext}`), `export default function f(x${ext === 'ts' ? ': number' : ''}) {\n  return x;\n`);
    expect(refusal(`./unclosed.${ext}`)).toBe(`${join(dir, `unclosed.${ext}`)}:3:1: Unexpected end of file`);
  });
});

describe('a user module in TypeScript, in a folder of its own (no package of "type": "module" above it)', () => {
  it('loads, its default export and the others as they are written', () => {
    writeFileSync(join(dir, 'alone.ts'), "export const batches = 'named';\nexport default function f(x: number): number {\n  return x;\n}\n");
    const said = execFileSync(process.execPath, ['--input-type=module', '-e', `import { importUserModule } from ${JSON.stringify(IMPORT)}; const m = await importUserModule('./alone.ts', ${JSON.stringify(dir)}); console.log(typeof m.default, m.batches);`], { encoding: 'utf8' }).trim();
    expect(said).toBe('function named');
  });
});

describe('a built-in that is not there', () => {
  it('is named with every real one, and the closest suggested as the user should type it', async () => {
    const builtins = { printer: async () => 'p', speeding: async () => 's' };
    await expect(importModule('builtin:printr', builtins, 'function')).rejects.toThrow('unknown built-in function "builtin:printr" (built-in functions: builtin:printer, builtin:speeding) (did you mean "builtin:printer"?)');
  });
});
