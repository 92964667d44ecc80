import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connectSource, setLogLevel, type Logger, type Source } from '../index.ts';
import { loopStalled } from '../transport/loop-stall.ts';

/**
 * One client process of the soak (bench/soak.ts forks several, as real devices are spread over machines):
 * sources [first, first + count), each its own QUIC connection, dialled a group at a time when the bench says
 * (it paces the groups of all its processes by the zipper's loop), writing one fix a second when told. It answers
 * the bench's questions over IPC: its sources' connections, reconnects and spools, how late its own loop ran,
 * and each disconnect it saw, blamed on its own stall when its loop was stalled STALL_BLAME ms or more in the
 * BLAME_WINDOW before it (then the zipper's verdict was right: this process was silent), else on the zipper's
 * side (the zipper's loop, or its verdict).
 */

export interface SoakClientsConfig {
  zipper: string;
  certHash: string;
  first: number;
  count: number;
  /** sources in the whole soak: writes are spread over the second by a source's place among all */
  total: number;
}

export type ToClients = { type: 'dial'; count: number } | { type: 'write'; t0: number } | { type: 'row' } | { type: 'stop' } | { type: 'close'; ms: number };

export interface ClientsRow {
  connected: number;
  /** the fewest connected at a 1 s sample since the last row */
  fewest: number;
  reconnects: number;
  spooled: number;
  /** given up by the sources themselves (spool full, refused): not the transport's to lose */
  given: number;
  written: number;
  /** monitorEventLoopDelay's max since the last row, ms */
  lagMax: number;
  /** the longest this loop was stalled within a second since the last row, ms (loop-stall.ts) */
  stallMax: number;
  /** disconnects seen since the start: while this process was stalled, and otherwise */
  disconnectsStalled: number;
  disconnectsOther: number;
}

export type FromClients =
  /** a group dialled; first dials that failed so far (tried again until they connect: not disconnects) */
  | { type: 'dialed'; dialFailures: number }
  | ({ type: 'row' } & ClientsRow)
  | { type: 'closed'; written: number; unacked: number; closedInTime: boolean; why: [string, number][] };

/** a disconnect is this process's fault when its loop was stalled this long (ms) ... */
const STALL_BLAME = 1500;
/** ... within this many 1 s samples before it was seen */
const BLAME_WINDOW = 5;
/** a group dials once this process's loop has run no later than this (ms) for a quarter second */
const CALM_LAG = 200;
const DIAL_PATIENCE = 2000;
/** at most this long (ms) for a group's dials before the next group may go */
const GROUP_LIMIT = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function clients(cfg: SoakClientsConfig): void {
  const send = (m: FromClients) => process.send!(m);
  const sources: Source[] = [];
  const timers: NodeJS.Timeout[] = [];
  // why sources lost the zipper and failed to get back, by the words the SDK logs (numbers and addresses left out)
  const why = new Map<string, number>();
  const note = (msg: string) => {
    const k = msg.replace(/\d+/g, 'N');
    why.set(k, (why.get(k) ?? 0) + 1);
  };
  const log: Logger = { debug: note, info: () => {}, warn: note, error: note, child: () => log, about: () => log };
  const trust = { zipper: cfg.zipper, certHash: cfg.certHash };
  let written = 0;
  let dialFailures = 0;
  let dialled = 0;
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();

  // every second: who is connected, and which connections were lost since, blamed by this loop's stalls
  const stalledAt: number[] = [loopStalled(performance.now())];
  let stallMax = 0;
  let fewest = Infinity;
  let disconnectsStalled = 0;
  let disconnectsOther = 0;
  const was = new Map<Source, { connected: boolean; reconnects: number }>();
  timers.push(
    setInterval(() => {
      stalledAt.push(loopStalled(performance.now()));
      if (stalledAt.length > BLAME_WINDOW + 1) stalledAt.shift();
      stallMax = Math.max(stallMax, stalledAt[stalledAt.length - 1] - stalledAt[stalledAt.length - 2]);
      const stalled = stalledAt[stalledAt.length - 1] - stalledAt[0] >= STALL_BLAME;
      let connected = 0;
      for (const s of sources) {
        const now = s.stats();
        const before = was.get(s);
        // lost since the last look: down now, or back up with one more reconnect
        if (before?.connected && (!now.connected || now.reconnects > before.reconnects)) {
          if (stalled) disconnectsStalled++;
          else disconnectsOther++;
        }
        was.set(s, { connected: now.connected, reconnects: now.reconnects });
        if (now.connected) connected++;
      }
      fewest = Math.min(fewest, connected);
    }, 1000),
  );

  const sum = (f: (s: Source) => number) => sources.reduce((a, s) => a + f(s), 0);
  const row = (): ClientsRow => {
    const r = {
      connected: sources.filter((s) => s.stats().connected).length,
      fewest: Math.min(fewest, sources.length),
      reconnects: sum((s) => s.stats().reconnects),
      spooled: sum((s) => s.stats().spooled),
      given: sum((s) => s.stats().dropped + s.stats().refused),
      written,
      lagMax: lag.max / 1e6,
      stallMax,
      disconnectsStalled,
      disconnectsOther,
    };
    lag.reset();
    stallMax = 0;
    fewest = Infinity;
    return r;
  };

  // a first dial that fails in a busy process is tried again, and counted: it is not a disconnect
  const dial = async (name: string): Promise<Source> => {
    for (;;) {
      try {
        return await connectSource({ name, ...trust, connectTimeout: 60_000, log });
      } catch (e) {
        dialFailures++;
        note(`first dial failed: ${(e as Error).message}`);
      }
    }
  };
  // a group of the next `count` sources, once this process's loop has run no later than CALM_LAG for a quarter
  // second (at most DIAL_PATIENCE ms of waiting): handshakes that starve the connected sources' heartbeats cost
  // reconnects, whose handshakes starve them more
  const calm = monitorEventLoopDelay({ resolution: 20 });
  const dialGroup = async (count: number) => {
    calm.enable();
    const until = Date.now() + DIAL_PATIENCE;
    do {
      calm.reset();
      await sleep(250);
    } while (calm.max / 1e6 > CALM_LAG && Date.now() < until);
    calm.disable();
    const first = cfg.first + dialled;
    dialled += count;
    // a dial whose handshake hangs (seen at 1,000 sources: the group never came back) holds up no other group;
    // its source joins when it connects, and writes only if that is before the writing starts
    const group = Array.from({ length: count }, (_, j) => dial(`soak-${first + j}`).then((s) => void sources.push(s)));
    await Promise.race([Promise.all(group), sleep(GROUP_LIMIT)]);
    send({ type: 'dialed', dialFailures });
  };

  const write = (t0: number) =>
    sources.forEach((s, i) => {
      const n = cfg.first + i;
      let k = 0;
      // spread over the second, as independent devices would be
      const start = setTimeout(() => {
        const once = () => {
          s.write('gps', { deviceId: `veh-${n}`, t: t0 + k * 1000, lon: 7.41 + (n % 100) * 0.0003, lat: 43.725 + (k % 60) * 0.0002, speed: 10 });
          k++;
          written++;
        };
        once();
        timers.push(setInterval(once, 1000));
      }, t0 + (n * 1000) / cfg.total - Date.now());
      timers.push(start);
    });

  // sources close within `ms` (what is still unacknowledged then is the bench's `lost`), then this process ends
  const close = async (ms: number) => {
    for (const t of timers) clearInterval(t);
    const closing = Promise.all(sources.map((s) => s.close(ms)));
    const closedInTime = (await Promise.race([closing.then(() => true), sleep(ms + 5000).then(() => false)])) as boolean;
    const unacked = sum((s) => s.stats().spooled);
    send({ type: 'closed', written, unacked, closedInTime, why: [...why] });
    process.disconnect();
    setTimeout(() => process.exit(0), 1000).unref();
  };

  process.on('message', (m: ToClients) => {
    if (m.type === 'dial') void dialGroup(m.count);
    else if (m.type === 'write') {
      row(); // the rows count from here: what the dialling saw is not the writing's
      write(m.t0);
    }
    else if (m.type === 'row') send({ type: 'row', ...row() });
    else if (m.type === 'stop') {
      // writing stops; the 1 s sampler goes on
      for (const t of timers.splice(1)) clearInterval(t);
      send({ type: 'row', ...row() });
    } else void close(m.ms);
  });
}

setLogLevel('silent');
clients(JSON.parse(process.argv[2]) as SoakClientsConfig);
