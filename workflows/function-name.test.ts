import { describe, expect, it } from 'vitest';
import { temporaryPath } from '../transport/state-files.ts';
import { functionNameProblem, MAX_FUNCTION_NAME, stateFileName } from './function-name.ts';

describe("a function's name", () => {
  it(`has at most ${MAX_FUNCTION_NAME} characters, letters, digits, "-" and "_"`, () => {
    expect(functionNameProblem('a'.repeat(MAX_FUNCTION_NAME))).toBeUndefined();
    expect(functionNameProblem('a'.repeat(MAX_FUNCTION_NAME + 1))).toBe('has at most 100 characters (its state is saved to a file of its name)');
    expect(functionNameProblem('a/b')).toMatch(/^must start with a letter/);
  });

  it('of the most characters, names a state file whose temporary one, with the longest pid, fits in 255 bytes', () => {
    const longest = temporaryPath(stateFileName('a'.repeat(MAX_FUNCTION_NAME)), 2 ** 22, '00000000');
    expect(Buffer.byteLength(longest)).toBeLessThanOrEqual(255);
  });
});
