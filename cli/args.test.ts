import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args.ts';
import { deploySpec, functionsSpec, hotspotSpec, kernelSpec, querySpec, replaySpec, undeploySpec } from './command-specs.ts';
import { printable } from '../codecs/control-characters.ts';

describe('the command line, said plainly', () => {
  it('a negative number after a flag: how to write it, not "argument is ambiguous"', () => {
    expect(() => parseCommand(hotspotSpec, ['--cell', '-5', 'f.csv'])).toThrow('--cell takes a value; one that starts with "-" is written with "=": --cell=-5\nRun "geoflux hotspot --help" for the options.');
    expect(() => parseCommand(querySpec, ['nearby', '-k', '-3'])).toThrow('--k takes a value; one that starts with "-" is written with "=": --k=-3');
    expect(parseCommand(hotspotSpec, ['--cell=-5', 'f.csv']).values.cell).toBe('-5');
  });

  it('an argument more than a command takes: refused, named, with what the command takes', () => {
    expect(() => parseCommand(deploySpec, ['a.wasm', 'b.wasm', '--name', 'a'])).toThrow(new UsageError('unexpected argument "b.wasm": deploy takes one kernel\nRun "geoflux deploy --help" for the options.'));
    expect(() => parseCommand(undeploySpec, ['a', 'b'])).toThrow(new UsageError('unexpected argument "b": undeploy takes one function\nRun "geoflux undeploy --help" for the options.'));
    expect(() => parseCommand(kernelSpec, ['k.wasm', 'trace.csv', 'more.csv'])).toThrow(new UsageError('unexpected argument "more.csv": kernel takes a kernel and a trace\nRun "geoflux kernel --help" for the options.'));
    expect(() => parseCommand(functionsSpec, ['speeding'])).toThrow(new UsageError('unexpected argument "speeding": functions takes no arguments\nRun "geoflux functions --help" for the options.'));
    expect(parseCommand(deploySpec, ['a.wasm']).positionals).toEqual(['a.wasm']);
    expect(parseCommand(replaySpec, ['a.csv', 'b.csv', 'c.csv']).positionals).toHaveLength(3);
    // --help answers whatever else is on the line
    expect(parseCommand(deploySpec, ['a.wasm', 'b.wasm', '--help']).values.help).toBe(true);
  });

  it("an error quoting a binary file's bytes reaches the terminal escaped", () => {
    expect(printable('header "\u001b[2J\u0000ab\ufffd×" is not\tvalid\nJSON')).toBe('header "\\x1b[2J\\x00ab\\ufffd×" is not\tvalid\nJSON');
  });
});
