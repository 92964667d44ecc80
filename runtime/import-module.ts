import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { didYouMean } from '../workflows/errors.ts';
import { syntaxErrorAt } from './syntax-error-at.ts';

let tsxRegistered = false;

/**
 * TypeScript a user wrote (`geoflux run my-sfn.ts`, `run: ./my-sfn.ts`): plain Node cannot load it, tsx can.
 * Both of tsx's hooks: outside a package of `"type": "module"` (a file in a folder of its own) Node takes a
 * `.ts` file for CommonJS and requires it, which the ESM hook alone answered with a require(esm) cycle.
 */
async function registerTsx(): Promise<void> {
  if (tsxRegistered) return;
  (await import('tsx/esm/api')).register();
  (await import('tsx/cjs/api')).register();
  tsxRegistered = true;
}

/** a module as its exports: one compiled to CommonJS comes as `default`, with its own `default` beside its other exports */
const exportsOf = <T>(m: { default?: { __esModule?: boolean } }): T => (m.default?.__esModule ? m.default : m) as T;

const isTypeScript = (path: string) => /\.[cm]?ts$/.test(path);

/**
 * Imports a user's module by path (relative to `baseDir`). TypeScript is loaded through tsx, registered the
 * first time one is asked for (before the import: Node remembers a failed import of a URL); JavaScript is
 * imported as it is.
 */
export async function importUserModule<T>(path: string, baseDir = process.cwd()): Promise<T> {
  const file = isAbsolute(path) ? path : resolve(baseDir, path);
  if (isTypeScript(file)) await registerTsx();
  try {
    return exportsOf<T>(await import(pathToFileURL(file).href));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // MODULE_NOT_FOUND: a .ts file outside a package of type module is required (tsx's CommonJS hook)
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') {
      const unparsed = await syntaxErrorAt(file);
      throw unparsed ? new Error(unparsed, { cause: e }) : e;
    }
    // Node says the file that imported the missing one too: only the module itself, quoted, is it missing
    const said = String((e as Error).message);
    if (said.includes(`'${file}'`) || said.includes(`'${pathToFileURL(file).href}'`)) throw new Error(`cannot find module ${file}`);
    const pkg = /Cannot find package '([^']+)'/.exec(said)?.[1] ?? /^Cannot find module '((?:@[^/']+\/)?[^./'][^/']*)[^']*'/.exec(said)?.[1];
    if (pkg) throw new Error(`${file} imports the package "${pkg}", which is not installed where Node looks from that file (a node_modules folder beside it or above it): npm install ${pkg} there`, { cause: e });
    throw e;
  }
}

/** What `builtin:<name>` can name: each entry loads one module shipped with geoflux. */
export type Builtins<T> = Record<string, () => Promise<T>>;

/** a `builtin:<name>` spec: geoflux's own module, not a user's */
export const isBuiltin = (spec: string | undefined): boolean => spec?.startsWith('builtin:') === true;

/** `builtin:<name>` from `builtins` (an unknown name is an error listing the real ones), anything else a user's module. */
export function importModule<T>(spec: string, builtins: Builtins<T>, what: string, baseDir?: string): Promise<T> {
  if (!isBuiltin(spec)) return importUserModule<T>(spec, baseDir);
  const name = spec.slice('builtin:'.length);
  const load = Object.hasOwn(builtins, name) ? builtins[name] : undefined;
  if (!load) return Promise.reject(new Error(unknownBuiltin(name, builtins, what)));
  return load();
}

/** `hosted`: builtins serve runs itself (not loadable modules), named too; the closest is suggested as it is typed, `builtin:` and all */
export function unknownBuiltin(name: string, builtins: Builtins<unknown>, what: string, hosted: string[] = []): string {
  const all = [...Object.keys(builtins).map((b) => `builtin:${b}`), ...hosted];
  return `unknown built-in ${what} "builtin:${name}" (built-in ${what}s: ${all.join(', ')})${didYouMean(`builtin:${name}`, all)}`;
}
