import { atMost, checked, checkShape, matches, string } from '../codecs/shape-check.ts';

/**
 * A function's name is also a file's: serve saves a kernel function's state at a clean stop to
 * `functions/<name>.state` in the state folder (serve/saved-state.ts), written through a temporary file
 * beside it. A name whose file could not be written would be taken, run, and then lose its state at the
 * first stop (ENAMETOOLONG); so a name is checked where it is given, a workflow's functions and a deploy's
 * --name, by one rule. A plain name is not escaped in its file's name, so MAX_FUNCTION_NAME characters
 * leave that file, and its temporary one, well inside the 255 bytes file systems allow
 * (function-name.test.ts says by how much).
 */

/** the longest name a function may have, in characters: room for its file's name, and a `geoflux functions` row */
export const MAX_FUNCTION_NAME = 100;

/** a function's or a source's name: what logs, metrics and the state folder's files are labelled with */
export const plainName = checked(string, matches(/^[a-z][a-z0-9_-]*$/i, 'must start with a letter and use only letters, digits, "-" and "_"'));

export const functionName = checked(plainName, atMost(MAX_FUNCTION_NAME, `has at most ${MAX_FUNCTION_NAME} characters (its state is saved to a file of its name)`));

/** why `name` cannot be a function's name (undefined: it can) */
export const functionNameProblem = (name: unknown): string | undefined => checkShape(functionName, name).issues[0]?.message;

/** the file a function's state is saved to, in the state folder's `functions/`: its name, escaped */
export const stateFileName = (name: string): string => `${encodeURIComponent(name)}.state`;
