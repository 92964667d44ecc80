import { parseArgs } from 'node:util';
import { quoted } from '../codecs/control-characters.ts';
import { didYouMean } from '../workflows/errors.ts';

/** One command's flags, its help text and its parser in one place, so `--help` never drifts from the code. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** shown as `--name <value>` */
  value?: string;
  help: string;
  default?: string | boolean;
  multiple?: boolean;
  /** names users try for it (alerts' `--url` for `--mqtt`): not accepted, but the error names this flag */
  triedAs?: string[];
}

export interface CommandSpec {
  name: string;
  usage: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  /** extra lines after the flags: examples, notes */
  notes?: string[];
  /**
   * the arguments it takes besides its flags: at most `most` (Infinity: any number), `what` as the refusal of
   * one more says them ("deploy takes one kernel"); absent, none
   */
  takes?: { most: number; what: string };
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const COMMON: Record<string, FlagSpec> = {
  help: { type: 'boolean', short: 'h', help: 'show this help' },
  // no default here: an absent flag leaves the level to GEOFLUX_LOG (cli/log-level.ts)
  'log-level': { type: 'string', value: 'level', help: 'debug, info, warn, error or silent (default: $GEOFLUX_LOG, else info)' },
};

export function helpText(spec: CommandSpec): string {
  const flags = { ...spec.flags, ...COMMON };
  const rows = Object.entries(flags).map(([name, f]) => {
    const left = `  ${f.short ? `-${f.short}, ` : '    '}--${name}${f.value ? ` <${f.value}>` : ''}`;
    const dflt = f.default !== undefined && f.default !== false ? ` (default: ${f.default})` : '';
    return [left, f.help + dflt] as const;
  });
  const w = Math.max(...rows.map(([l]) => l.length)) + 2;
  return [
    `Usage: ${spec.usage}`,
    '',
    spec.summary,
    '',
    'Options:',
    ...rows.map(([l, r]) => l.padEnd(w) + r),
    ...(spec.notes?.length ? ['', ...spec.notes] : []),
    '',
  ].join('\n');
}

export type Parsed = { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };

export function parseCommand(spec: CommandSpec, argv: string[]): Parsed {
  const flags = { ...spec.flags, ...COMMON };
  // parseArgs rejects keys set to undefined, so only the ones a flag has
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, f]) => [
      name,
      Object.fromEntries(Object.entries({ type: f.type, short: f.short, multiple: f.multiple, default: f.default }).filter(([, v]) => v !== undefined)),
    ]),
  ) as unknown as NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  let parsed: Parsed;
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    parsed = { values: values as Parsed['values'], positionals };
  } catch (e) {
    // a negative number after a flag reads as a flag: say how to write it, not that it is "ambiguous"
    const ambiguous = /^Option '(?:-\w, )?(-{1,2}[^' ]+)' argument is ambiguous/.exec((e as Error).message)?.[1];
    const name = ambiguous?.startsWith('--') ? ambiguous.slice(2) : Object.keys(flags).find((n) => ambiguous && flags[n].short === ambiguous.slice(1));
    if (ambiguous && name !== undefined && Object.hasOwn(flags, name)) {
      const value = argv[argv.indexOf(ambiguous) + 1];
      throw new UsageError(`--${name} takes a value; one that starts with "-" is written with "=": --${name}=${value}\nRun "geoflux ${spec.name} --help" for the options.`);
    }
    const message = (e as Error).message.replace(/\. To specify.*$/s, '');
    const flag = /^Unknown option '--([^']+)'/.exec(message)?.[1];
    const tried = Object.entries(flags).find(([, f]) => flag !== undefined && f.triedAs?.includes(flag))?.[0];
    const near = flag === undefined ? '' : tried ? ` (did you mean "--${tried}"?)` : didYouMean(flag, Object.keys(flags)).replace('"', '"--');
    throw new UsageError(`${message}${near}\nRun "geoflux ${spec.name} --help" for the options.`);
  }
  // one more than a command takes was a mistake (a second kernel, a file where a flag's value was meant): not ignored
  const most = spec.takes?.most ?? 0;
  if (!parsed.values.help && parsed.positionals.length > most) throw unexpectedArgument(parsed.positionals[most], `${spec.name} takes ${spec.takes?.what ?? 'no arguments'}\nRun "geoflux ${spec.name} --help" for the options.`);
  return parsed;
}

/** an argument a command (or a mode of it, `why`) does not take */
export const unexpectedArgument = (arg: string, why: string): UsageError => new UsageError(`unexpected argument ${quoted(arg)}: ${why}`);

/** --params: a JSON object of a kernel's params */
export function parseParams(text: unknown): Record<string, unknown> {
  if (text === undefined) return {};
  let params: unknown;
  try {
    params = JSON.parse(String(text));
  } catch (e) {
    throw new UsageError(`--params is not JSON: ${(e as Error).message}`);
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new UsageError('--params is a JSON object, e.g. {"limit": 30}');
  return params as Record<string, unknown>;
}

/** `9466` or `0.0.0.0:9466` (the host default 127.0.0.1); undefined for anything else, a URL among them */
export function parseHostPort(v: string): { host: string; port: number } | undefined {
  const m = v.includes('://') ? null : /^(?:(.+):)?(\d+)$/.exec(v);
  return m && Number(m[2]) <= 65535 ? { host: m[1] ?? '127.0.0.1', port: Number(m[2]) } : undefined;
}
