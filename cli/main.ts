import { readFileSync } from 'node:fs';
import { logLevel, setLogLevel, type Level } from '../log/logger.ts';
import { helpText, parseCommand, UsageError, type CommandSpec, type Parsed } from './args.ts';
import { alertsCommand, alertsSpec } from './alerts.ts';
import { fenceCommand, fenceSpec } from './fence.ts';
import { hotspotCommand, hotspotSpec } from './hotspot.ts';
import { matchCommand, matchSpec } from './match.ts';
import { networkCommand, networkSpec } from './network.ts';
import { replayCommand, replaySpec } from './replay.ts';
import { runCommand, runSpec } from './run.ts';
import { serveCommand, serveSpec } from './serve.ts';
import { simCommand, simSpec } from './sim.ts';

const commands: Record<string, { spec: CommandSpec; main: (p: Parsed) => Promise<void> }> = {
  serve: { spec: serveSpec, main: serveCommand },
  run: { spec: runSpec, main: runCommand },
  fence: { spec: fenceSpec, main: fenceCommand },
  hotspot: { spec: hotspotSpec, main: hotspotCommand },
  network: { spec: networkSpec, main: networkCommand },
  match: { spec: matchSpec, main: matchCommand },
  sim: { spec: simSpec, main: simCommand },
  replay: { spec: replaySpec, main: replayCommand },
  alerts: { spec: alertsSpec, main: alertsCommand },
};

const version = (): string => JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

const topHelp = () =>
  [
    'Usage: geoflux <command> [options]',
    '',
    'Streaming geoprocessing at the edge: sources stream GPS fixes to a zipper, which routes them through',
    'stream functions; see README.md.',
    '',
    'Commands:',
    ...Object.values(commands).map(({ spec }) => `  ${spec.name.padEnd(10)} ${spec.summary.split('\n')[0]}`),
    '',
    'Options:',
    '  -h, --help     help for geoflux, or for a command: geoflux <command> --help',
    '  -v, --version  print the version',
    '',
  ].join('\n');

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topHelp());
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(version() + '\n');
    return 0;
  }
  const cmd = commands[name];
  try {
    if (!cmd) throw new UsageError(`unknown command "${name}"\n\n${topHelp()}`);
    const parsed = parseCommand(cmd.spec, rest);
    if (parsed.values.help) {
      process.stdout.write(helpText(cmd.spec));
      return 0;
    }
    setLogLevel(parsed.values['log-level'] as Level);
    await cmd.main(parsed);
    return 0;
  } catch (e) {
    const err = e as Error;
    // users get the message; the stack is for --log-level debug
    process.stderr.write(`geoflux ${name}: ${logLevel() === 'debug' ? (err.stack ?? err.message) : err.message}\n`);
    return err.name === 'UsageError' ? 2 : 1;
  }
}
