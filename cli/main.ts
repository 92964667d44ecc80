import { printable } from '../codecs/control-characters.ts';
import { logLevel, setLogLevel } from '../log/logger.ts';
import { packageVersion } from '../metrics/build-info.ts';
import { helpText, parseCommand, UsageError, type CommandSpec, type Parsed } from './args.ts';
import * as specs from './command-specs.ts';
import { chosenLogLevel } from './log-level.ts';
import { signalExitCode } from './until-signal.ts';
import { didYouMean } from '../workflows/errors.ts';

type Command = (p: Parsed) => Promise<void>;

/** Each command's code loads only when it runs: help and usage errors need only the specs. */
const commands: Record<string, { spec: CommandSpec; load: () => Promise<Command> }> = {
  serve: { spec: specs.serveSpec, load: async () => (await import('./serve.ts')).serveCommand },
  worker: { spec: specs.workerSpec, load: async () => (await import('./worker.ts')).workerCommand },
  run: { spec: specs.runSpec, load: async () => (await import('./run.ts')).runCommand },
  kernel: { spec: specs.kernelSpec, load: async () => (await import('./kernel.ts')).kernelCommand },
  fence: { spec: specs.fenceSpec, load: async () => (await import('./fence.ts')).fenceCommand },
  hotspot: { spec: specs.hotspotSpec, load: async () => (await import('./hotspot.ts')).hotspotCommand },
  network: { spec: specs.networkSpec, load: async () => (await import('./network.ts')).networkCommand },
  match: { spec: specs.matchSpec, load: async () => (await import('./match.ts')).matchCommand },
  sim: { spec: specs.simSpec, load: async () => (await import('./sim.ts')).simCommand },
  replay: { spec: specs.replaySpec, load: async () => (await import('./replay.ts')).replayCommand },
  alerts: { spec: specs.alertsSpec, load: async () => (await import('./alerts.ts')).alertsCommand },
  status: { spec: specs.statusSpec, load: async () => (await import('./status.ts')).statusCommand },
  deploy: { spec: specs.deploySpec, load: async () => (await import('./deploy.ts')).deployCommand },
  functions: { spec: specs.functionsSpec, load: async () => (await import('./deploy.ts')).functionsCommand },
  undeploy: { spec: specs.undeploySpec, load: async () => (await import('./deploy.ts')).undeployCommand },
  logs: { spec: specs.logsSpec, load: async () => (await import('./logs.ts')).logsCommand },
  query: { spec: specs.querySpec, load: async () => (await import('./query.ts')).queryCommand },
};


const topHelp = () =>
  [
    'Usage: geoflux <command> [options]',
    '',
    'Streaming geoprocessing at the edge: sources stream GPS fixes to a zipper, which routes them through',
    'stream functions; see README.md.',
    '',
    'Commands:',
    ...Object.values(commands).map(({ spec }) => `  ${spec.name.padEnd(10)} ${firstClause(spec.summary)}`),
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
    process.stdout.write(packageVersion() + '\n');
    return 0;
  }
  const cmd = commands[name];
  try {
    if (!cmd) throw new UsageError(`unknown command "${name}"${didYouMean(name, Object.keys(commands))}\n\n${topHelp()}`);
    const parsed = parseCommand(cmd.spec, rest);
    if (parsed.values.help) {
      process.stdout.write(helpText(cmd.spec));
      return 0;
    }
    setLogLevel(chosenLogLevel(parsed.values['log-level'] as string | undefined, process.env.GEOFLUX_LOG));
    await (await cmd.load())(parsed);
    return 0;
  } catch (e) {
    const err = e as Error;
    // users get the message; the stack is for --log-level debug
    process.stderr.write(`geoflux ${name}: ${printable(logLevel() === 'debug' ? (err.stack ?? err.message) : err.message)}\n`);
    // interrupted: what a shell reports for a command the signal ended (130 for Ctrl-C, 143 for SIGTERM)
    return err.name === 'UsageError' ? 2 : err.name === 'InterruptedError' ? signalExitCode() : 1;
  }
}

/** A command's summary up to its first full stop, colon or parenthesis: one whole line for the command list. */
function firstClause(summary: string): string {
  const whole = summary.replace(/\s+/g, ' ').trim();
  // what is quoted in backticks (`where: cloud`) ends no clause: matched with it masked, cut from the text
  const masked = whole.replace(/`[^`]*`/g, (q) => '`'.padEnd(q.length - 1, '_') + '`');
  return whole.slice(0, /^(.{10,}?)(?:[.;:] |\.$| \(|$)/.exec(masked)![1].length);
}

