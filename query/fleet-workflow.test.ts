import { describe, expect, it } from 'vitest';
import { parseWorkflow } from '../workflows/load.ts';

/** How a workflow names the fleet function, and what it is told when it names it wrong (file:line field: reason). */
const wf = (fleet: string, more = '', dashboard = 'dashboard: { port: 0 }\n') =>
  parseWorkflow(`name: x\nlisten: [quic://127.0.0.1:0]\n${dashboard}tags: { gps: 16, out: 17 }\nfunctions:\n  - ${fleet}\n${more}`, 'f.yaml', {});
const fleet = (fields: string) => `{ name: fleet, observe: [gps], run: builtin:fleet, ${fields} }`;

describe('run: builtin:fleet in a workflow', () => {
  it('loads as the default workflow names it', () => {
    expect(wf(fleet('host: local, params: { ttl: 60, cell: 250 }')).functions[0]).toMatchObject({ run: 'builtin:fleet', host: 'local', instances: 1 });
  });

  it('runs once, locally, at the edge, emitting nothing, with known params', () => {
    expect(() => wf(fleet('params: { ttl: 60 }'))).toThrow("f.yaml:6:5 functions[0].host: the fleet runs in serve's process, beside the dashboard that answers from it: host: local");
    expect(() => wf(fleet('host: local, instances: 2'))).toThrow('functions[0].instances: one index sees the whole fleet: instances: 1');
    expect(() => wf(fleet('host: local, emit: out'))).toThrow('functions[0].emit: the fleet emits nothing');
    expect(() => wf(fleet('host: local, params: { ttl: -1 }'))).toThrow('functions[0].params.ttl: must be a number > 0 (got -1)');
    expect(() => wf(fleet('host: local, params: { tll: 5 }'))).toThrow('functions[0].params.tll: unknown param (fleet takes ttl: seconds, cell: metres)');
    expect(() => wf(fleet('host: local'), `  - { name: again, observe: [gps], host: local, run: builtin:fleet }\n`)).toThrow('functions[1].run: a workflow keeps one fleet index');
    expect(() => wf(fleet('host: local'), '', '')).toThrow("functions[0].run: the fleet is asked over the dashboard's HTTP server (/v1/): add dashboard: { port: 8080 }");
  });

  it('names the fleet among the builtins for a misspelt one', () => {
    expect(() => wf('{ name: f, observe: [gps], host: local, run: builtin:flet }')).toThrow(
      'functions[0].run: unknown built-in function "builtin:flet" (built-in functions: builtin:congestion, builtin:printer, builtin:speeding, builtin:fleet) (did you mean "builtin:fleet"?)',
    );
  });
});
