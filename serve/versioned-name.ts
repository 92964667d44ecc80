import { quoted } from '../codecs/control-characters.ts';

/**
 * A deployed function's versions run side by side for a moment in a replace, so the zipper knows each by a
 * name of its own (`heavy@3`); the user knows one function (`heavy`), which is what is shown and labelled.
 * Versions are numbered per function, from its first deploy (`heavy`, then `heavy@2`, …): a deployment keeps
 * its number in deployments.json, and a deploy or replace that is refused takes none.
 */
export const versionedName = (name: string, version = 1): string => (version > 1 ? `${name}@${version}` : name);

const VERSIONED = /^(.+)@(\d+)$/;

/** `heavy` from `heavy@3`; a name that is no version's is itself (a name cannot hold "@") */
export const functionNameOf = (zipperName: string): string => partsOf(zipperName).name;

/** the user's name and the version apart: `heavy` and 3 from `heavy@3`; a first version has none */
export const partsOf = (zipperName: string): { name: string; version?: number } => {
  const v = VERSIONED.exec(zipperName);
  return v ? { name: v[1], version: Number(v[2]) } : { name: zipperName };
};

/** a version in a logger's component: `heavy v3` (a first version: `heavy`); `heavy@3` is a name the user never gave */
export const shownName = (zipperName: string): string => {
  const { name, version } = partsOf(zipperName);
  return version ? `${name} v${version}` : name;
};

/** a version in a message: `function "heavy" v3` (a first version: `function "heavy"`) */
export const functionLabel = (zipperName: string): string => {
  const { name, version } = partsOf(zipperName);
  return `function ${quoted(name)}${version ? ` v${version}` : ''}`;
};
