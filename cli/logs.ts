import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError } from '../client/client.ts';
import { openControl, ServeWentAwayError, type ControlSession } from '../client/control-client.ts';
import { UsageError, type Parsed } from './args.ts';
import { explainControlFailure } from './control-failure.ts';
import { accepted, controlOptions } from './deploy.ts';
import { untilSignal } from './until-signal.ts';

/** ms between two asks of `--follow` */
const FOLLOW_EVERY_MS = 1_000;

/** `geoflux logs <fn>`: the function's recent lines from a running serve; with --follow, the lines after them as they come. */
export async function logsCommand({ values, positionals }: Parsed): Promise<void> {
  const [name] = positionals;
  if (!name) throw new UsageError('name the function whose lines to print (geoflux functions lists them)');
  let session: ControlSession | undefined = await openControl(controlOptions(values)).catch((e: unknown) => explainControlFailure(e, values));
  const stop = untilSignal('logs', { cutShort: () => 'the close of the control session' });
  try {
    if (values.follow) process.stderr.write(`geoflux logs: following "${name}" (Ctrl-C to stop)\n`);
    let after = 0;
    let serve: string | undefined;
    for (let first = true; ; first = false) {
      let reply;
      try {
        reply = await session.ask({ op: 'logs', name, after });
      } catch (e) {
        // like `tail -F`: a follower outlives a serve restart, said once, and carries on when serve is back
        if (!(e instanceof ServeWentAwayError) || !values.follow) throw e;
        process.stderr.write(`geoflux logs: serve went away; following again once it is back (Ctrl-C to stop)\n`);
        await session.close();
        session = await reopen(values, stop.signal);
        if (!session) return;
        continue;
      }
      // a function undeployed while followed: the end of what there is to follow, not an error
      if (!first && !reply.ok && /no function/.test(reply.error)) return void process.stderr.write(`geoflux logs: "${name}" is no longer a function of serve (undeployed?)\n`);
      const { logs = { lines: [], next: after, missed: 0 } } = accepted(reply);
      // a serve started again counts its lines from 0: ask it from its first
      if (serve && logs.serve && logs.serve !== serve) {
        process.stderr.write(`geoflux logs: serve started again; its lines from the start (those of the serve before that came after the last look are gone)\n`);
        serve = logs.serve;
        after = 0;
        continue;
      }
      serve = logs.serve;
      // more lines came between two asks than serve keeps: said, not skipped silently
      if (!first && logs.missed) process.stderr.write(`geoflux logs: ${logs.missed} lines of "${name}" came and went between two looks\n`);
      if (logs.lines.length) process.stdout.write(logs.lines.join('\n') + '\n');
      else if (first && !values.follow) process.stderr.write(`geoflux logs: "${name}" has said nothing since serve started\n`);
      after = logs.next;
      if (!values.follow || stop.signal.aborted) return;
      await sleep(FOLLOW_EVERY_MS, undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) return;
    }
  } finally {
    stop.dispose();
    await session?.close();
  }
}

/** a control session once serve answers again, however long that takes; undefined if Ctrl-C comes first */
async function reopen(values: Parsed['values'], signal: AbortSignal): Promise<ControlSession | undefined> {
  return openControl({ ...controlOptions(values), connectTimeout: Infinity, signal }).catch((e: unknown) => {
    if (e instanceof InterruptedError) return undefined;
    return explainControlFailure(e, values);
  });
}
