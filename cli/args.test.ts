import { describe, expect, it } from 'vitest';
import { parseCommand } from './args.ts';
import { hotspotSpec, querySpec } from './command-specs.ts';
import { printable } from '../codecs/control-characters.ts';

describe('the command line, said plainly', () => {
  it('a negative number after a flag: how to write it, not "argument is ambiguous"', () => {
    expect(() => parseCommand(hotspotSpec, ['--cell', '-5', 'f.csv'])).toThrow('--cell takes a value; one that starts with "-" is written with "=": --cell=-5\nRun "geoflux hotspot --help" for the options.');
    expect(() => parseCommand(querySpec, ['nearby', '-k', '-3'])).toThrow('--k takes a value; one that starts with "-" is written with "=": --k=-3');
    expect(parseCommand(hotspotSpec, ['--cell=-5', 'f.csv']).values.cell).toBe('-5');
  });

  it("an error quoting a binary file's bytes reaches the terminal escaped", () => {
    expect(printable('header "\u001b[2J\u0000ab\ufffd×" is not\tvalid\nJSON')).toBe('header "\\x1b[2J\\x00ab\\ufffd×" is not\tvalid\nJSON');
  });
});
