import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { quicTransport } from '../transport/quic.ts';
import { selfSignedTls } from '../transport/tls.ts';
import type { FrameChannel } from '../transport/types.ts';

/**
 * How QUIC handshakes fare as connections pile up on one listener: a listener process (frame channels with the
 * default heartbeat, as the zipper's) and client processes that dial N connections in groups, each kept open
 * with its heartbeats. Per step it prints the handshakes' times, failures, and the UDP datagrams the kernel
 * dropped for want of receive buffer, per socket (/proc/net/udp's `drops`) on each side.
 * GEOFLUX_DIALS (default 1000), GEOFLUX_DIAL_CLIENTS (4), GEOFLUX_DIAL_GROUP (10).
 */

const self = fileURLToPath(import.meta.url);
const nodeArgs = ['--import', 'tsx'];

type Msg = { type: 'port'; port: number; certHash: string } | { type: 'dialed'; ms: number[]; failed: number; errors: string[] };

/** kernel drops per UDP socket of a process: sum of /proc/net/udp `drops` over the sockets whose inode it holds */
function udpDrops(pid: number): { sockets: number; drops: number; rxQueue: number } {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const l = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(l);
        if (m) inodes.add(m[1]!);
      } catch {}
    }
  } catch {}
  let sockets = 0;
  let drops = 0;
  let rxQueue = 0;
  for (const f of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 13 || !inodes.has(c[9]!)) continue;
      sockets++;
      drops += Number(c[12]);
      rxQueue += parseInt(c[4]!.split(':')[1]!, 16);
    }
  }
  return { sockets, drops, rxQueue };
}

/** datagrams this process received and sent, counted on every UDP socket */
function countDatagrams(): { in: number; out: number } {
  const n = { in: 0, out: 0 };
  const { emit, send } = dgram.Socket.prototype;
  dgram.Socket.prototype.emit = function (this: dgram.Socket, ev: string, ...a: unknown[]) {
    if (ev === 'message') n.in++;
    return (emit as (...x: unknown[]) => boolean).call(this, ev, ...a);
  } as typeof emit;
  dgram.Socket.prototype.send = function (this: dgram.Socket, ...a: unknown[]) {
    n.out++;
    return (send as (...x: unknown[]) => void).apply(this, a);
  } as typeof send;
  return n;
}

async function listener(): Promise<void> {
  const dg = countDatagrams();
  let cpu = process.cpuUsage();
  let at = performance.now();
  const tls = await selfSignedTls();
  const channels = new Set<FrameChannel>();
  let idle = 0;
  const why = new Map<string, number>();
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  const l = await quicTransport.listen(new URL('quic://127.0.0.1:0'), { tls, log: (lv, m) => lv !== 'debug' && console.error(lv, m) }, (ch) => {
    channels.add(ch);
    ch.start({
      frame: () => {},
      closed: (e) => {
        channels.delete(ch);
        if (e?.name === 'IdleTimeoutError') idle++;
        const k = `${e?.name}: ${e?.message}`.replace(/\d+/g, 'N');
        why.set(k, (why.get(k) ?? 0) + 1);
      },
    });
  });
  process.send!({ type: 'port', port: Number(new URL(l.url).port), certHash: tls.certHash });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'exit') process.exit(0);
    if (m.type === 'stats') {
      const c = process.cpuUsage(cpu);
      const secs = (performance.now() - at) / 1000;
      const rates = { cpu: (c.user + c.system) / 1e4 / secs, inRate: dg.in / secs, outRate: dg.out / secs };
      cpu = process.cpuUsage();
      at = performance.now();
      dg.in = dg.out = 0;
      (process.send!({ type: 'stats', ...rates, open: channels.size, idle, lagMax: lag.max / 1e6, why: Object.fromEntries(why), ...l.stats() }), lag.reset());
    }
  });
}

async function dialer(port: number, certHash: string): Promise<void> {
  const url = new URL(`quic://127.0.0.1:${port}`);
  const held: FrameChannel[] = [];
  const dg = countDatagrams();
  let at = performance.now();
  process.on('message', async (m: { type: string; count: number }) => {
    if (m.type === 'sent') {
      process.send!({ type: 'sent', rate: dg.out / ((performance.now() - at) / 1000) });
      dg.out = dg.in = 0;
      at = performance.now();
    }
    if (m.type !== 'dial') return;
    const ms: number[] = [];
    const errors: string[] = [];
    let failed = 0;
    await Promise.all(
      Array.from({ length: m.count }, async () => {
        const t = performance.now();
        try {
          const ch = await quicTransport.dial(url, { certHash, timeout: 15_000 });
          ch.start({ frame: () => {}, closed: () => {} });
          ch.send({ type: 'ping', id: 1 });
          held.push(ch);
          ms.push(performance.now() - t);
        } catch (e) {
          failed++;
          errors.push((e as Error).message.replace(/\d+/g, 'N'));
        }
      }),
    );
    process.send!({ type: 'dialed', ms, failed, errors } satisfies Msg);
  });
}

const once = <T>(c: ChildProcess, type: string) => new Promise<T>((r) => c.on('message', function on(m: { type: string }) {
  if (m.type === type) (c.off('message', on), r(m as T));
}));

type Stats = { open: number; idle: number; tlsTimeouts: number; lagMax: number; cpu: number; inRate: number; outRate: number; why: Record<string, number> };

export async function run(): Promise<void> {
  const total = Number(process.env.GEOFLUX_DIALS ?? 1000);
  const nClients = Number(process.env.GEOFLUX_DIAL_CLIENTS ?? 4);
  const group = Number(process.env.GEOFLUX_DIAL_GROUP ?? 10);
  const hold = Number(process.env.GEOFLUX_DIAL_HOLD ?? 30);
  const listenerArgs = (process.env.GEOFLUX_DIAL_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = fork(self, ['listener'], { execArgv: [...nodeArgs, ...listenerArgs] });
  const { port, certHash } = await once<{ port: number; certHash: string }>(server, 'port');
  const clients = Array.from({ length: nClients }, () => fork(self, ['dialer', String(port), certHash], { execArgv: nodeArgs }));
  console.log(`${total} QUIC connections to one listener from ${nClients} client processes, ${group} dials at a time, then held ${hold} s (load average ${loadavg().map((x) => x.toFixed(1)).join(' ')})\n`);
  console.log('| connected | handshake ms median | max | failed (total) | listener CPU % | datagrams in/s | out/s | clients out/s | CPU µs a datagram | loop lag max ms | idle closes | handshake timeouts | listener UDP drops | clients UDP drops |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  let done = 0;
  let failed = 0;
  let step: number[] = [];
  const errs = new Map<string, number>();
  const closes = new Map<string, number>();
  const row = async (label: string) => {
    step.sort((a, b) => a - b);
    server.send({ type: 'stats' });
    const s = await once<Stats>(server, 'stats');
    for (const [k, v] of Object.entries(s.why)) closes.set(k, v);
    const ls = udpDrops(server.pid!);
    const cs = clients.map((x) => udpDrops(x.pid!).drops).reduce((a, b) => a + b);
    let clientsOut = 0;
    for (const c of clients) {
      c.send({ type: 'sent' });
      clientsOut += (await once<{ rate: number }>(c, 'sent')).rate;
    }
    const r = Math.round;
    console.log(
      `| ${label} (at the listener ${s.open}) | ${r(step[step.length >> 1] ?? NaN)} | ${r(step.at(-1) ?? NaN)} | ${failed} | ${r(s.cpu)} | ${r(s.inRate)} | ${r(s.outRate)} | ${r(clientsOut)} | ${r((s.cpu * 1e4) / (s.inRate + s.outRate))} | ${r(s.lagMax)} | ${s.idle} | ${s.tlsTimeouts} | ${ls.drops} | ${cs} |`,
    );
    step = [];
  };
  for (let i = 0; done + failed < total; i++) {
    const c = clients[i % nClients]!;
    c.send({ type: 'dial', count: Math.min(group, total - done - failed) });
    const r = await once<Extract<Msg, { type: 'dialed' }>>(c, 'dialed');
    done += r.ms.length;
    failed += r.failed;
    for (const e of r.errors) errs.set(e, (errs.get(e) ?? 0) + 1);
    step.push(...r.ms);
    if ((done + failed) % 100 < group || done + failed >= total) await row(String(done));
  }
  for (let t = 10; t <= hold; t += 10) {
    await new Promise((r) => setTimeout(r, 10_000));
    await row(`${done}, held ${t} s`);
  }
  if (errs.size) console.log('\nfailed dials:', Object.fromEntries(errs));
  if (closes.size) console.log('channels the listener lost:', Object.fromEntries(closes));
  for (const c of clients) c.kill('SIGKILL');
  // a graceful exit, so that --cpu-prof writes its profile
  server.send({ type: 'exit' });
  await new Promise((r) => server.once('exit', r));
}

const role = process.argv[2];
if (role === 'listener') await listener();
else if (role === 'dialer') await dialer(Number(process.argv[3]), process.argv[4]!);
