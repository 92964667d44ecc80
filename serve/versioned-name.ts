/**
 * A deployed function's versions run side by side for a moment in a replace, so the zipper knows each by a
 * name of its own (`heavy@3`); the user knows one function (`heavy`), which is what is shown and labelled.
 */
export const versionedName = (name: string, version: number): string => `${name}@${version}`;

/** `heavy` from `heavy@3`; a name that is no version's is itself (a name cannot hold "@") */
export const functionNameOf = (zipperName: string): string => zipperName.replace(/@\d+$/, '');
