import { describe, expect, it } from 'vitest';
import * as specs from './command-specs.ts';
import { metricsUrl } from './status.ts';
import { milliseconds } from './worker.ts';
import { waitFor } from '../testing/wait-for.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startEmbeddedBroker } from '../alerts/embedded-broker.ts';
import { freePort } from '../testing/free-port.ts';
import { wobblingCrossing } from '../testing/wobbling-crossing.ts';

/** The `geoflux` command as a user runs it: a real process, real QUIC on 127.0.0.1. */
const BIN = 'bin/geoflux.js';
const MONACO = '../shared/data/osm/monaco.osm.pbf';

function start(args: string[], stdin?: string) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: { ...process.env, GEOFLUX_LOG: 'info' } });
  if (stdin !== undefined) child.stdin!.end(stdin);
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out, exited };
}

const run = async (args: string[], stdin?: string) => {
  const p = start(args, stdin);
  return { code: await p.exited, ...p.out };
};

const stop = async (p: { child: ChildProcess; exited: Promise<number | null> }) => {
  p.child.kill('SIGINT');
  return p.exited;
};

describe('geoflux CLI', () => {
  it('has --help on every command and --version', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    // every command the top-level help lists
    const names = [...top.stdout.split('Commands:')[1].split('Options:')[0].matchAll(/^ {2}(\w+)/gm)].map((m) => m[1]);
    expect(names).toEqual(expect.arrayContaining(['serve', 'run', 'sim', 'replay', 'match', 'network']));
    // each command in one whole clause, not cut off where its summary's first line happens to end
    for (const line of top.stdout.split('Commands:')[1].split('Options:')[0].trim().split('\n')) {
      const [, name, shown] = /^\s*(\w+)\s+(.*)$/.exec(line)!;
      const summary = (specs as Record<string, { name?: string; summary?: string }>)[`${name}Spec`].summary!.replace(/\s+/g, ' ').trim();
      expect(summary.startsWith(shown), line).toBe(true);
      expect(summary.slice(shown.length), line).toMatch(/^([.;:] | \(|\.?$)/);
      // nor where a quoted `name: value` holds a colon
      expect((shown.match(/`/g) ?? []).length % 2, line).toBe(0);
    }
    for (const name of names) {
      const r = await run([name, '--help']);
      expect(r.code, name).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: geoflux ${name}`));
    }
    expect((await run(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 on a bad flag and 1 on a bad workflow, saying why', async () => {
    const flag = await run(['run', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--bogus'");
    const typo = await run(['serve', '--stats-evry', '3']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(`Unknown option '--stats-evry' (did you mean "--stats-every"?)`);
    const command = await run(['serv']);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/^geoflux serv: unknown command "serv" \(did you mean "serve"\?\)\n/);
    const sub = await run(['network', 'inof', '../shared/data/osm/monaco.osm.pbf']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toBe('geoflux network: geoflux network has two subcommands: info and areas (got "inof") (did you mean "info"?)\n');
    // a near miss of a built-in kind would print nothing, for ever
    const kind = await run(['alerts', '--kind', 'geofence,hotspt', '--mqtt', 'mqtt://127.0.0.1:1']);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('--kind "hotspt" is no built-in kernel\'s kind (did you mean "hotspot"?)');
    // a filter no broker takes: refused before any connection, not waited on for ever
    const topic = await run(['alerts', '--topic', 'geoflux/#/x', '--mqtt', 'mqtt://127.0.0.1:1']);
    expect(topic.code).toBe(2);
    expect(topic.stderr).toContain('--topic "geoflux/#/x" is no MQTT topic filter');
    const wf = await run(['serve', 'workflows/testdata/bad/unknown-tag.yaml']);
    expect(wf.code).toBe(1);
    expect(wf.stderr.trim()).toBe(
      'geoflux serve: workflows/testdata/bad/unknown-tag.yaml:14:5 functions[1].observe: unknown tag "gsp" (did you mean "gps"?)',
    );
  });

  it('serves a workflow that a function run with `geoflux run` joins over QUIC', async () => {
    const serve = start(['serve', 'workflows/testdata/good/cli.yaml', '--stats-every', '0']);
    try {
      const [, url] = await waitFor(() => serve.out.stderr.match(/^\s+(quic:\/\/127\.0\.0\.1:\d+)/m), 'the banner');
      const [, hash] = serve.out.stderr.match(/SHA-256 ([0-9a-f]{64})/)!;
      const fn = start(['run', 'workflows/examples/speeding.ts', '--zipper', url, '--cert-hash', hash, '--token', 'cli-token', '--params', '{"limitKmh": 30}']);
      await waitFor(() => /"kind":"speeding"/.test(serve.out.stdout), 'an alert printed by the zipper');
      expect(await stop(fn)).toBe(0);
      expect(fn.out.stderr).toMatch(/stopping: received \d+, emitted \d+/);
    } finally {
      expect(await stop(serve)).toBe(0);
    }
    expect(serve.out.stderr).toContain('stopped');
  });

  it('fence: events as JSON lines, or the fences containing each fix', async () => {
    const args = ['fence', '--fences', '../shared/data/fences/seattle-neighborhoods.geojson', '../shared/data/traces/seattle-newson-krumm-gps.txt'];
    const events = await run(args);
    expect(events.code).toBe(0);
    const lines = events.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(50);
    expect(lines[0]).toMatchObject({ kind: 'geofence', detect: 'enter', fence: { id: 'Mount Baker' } });
    expect(events.stderr).toMatch(/7531 fixes \(newson-krumm\) × 90 fences: \d+ events, 0 fixes skipped/);
    const contains = await run([...args.slice(0, 3), '--contains', args[3]]);
    const rows = contains.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.length).toBe(7531);
    expect(rows.filter((r) => r.fences.length > 0).length).toBeGreaterThan(1000);
  });

  it('hotspot: hot and cooled cells as JSON lines', async () => {
    const r = await run(['hotspot', '--cell', '200', '--band', '400', '--window', '600', '--min-count', '3', '../shared/data/traces/liverpool-bus-route14-outbound.csv']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(new Set(lines.map((e) => e.detect))).toEqual(new Set(['hot', 'cooled']));
    expect(lines[0]).toMatchObject({ kind: 'hotspot', cell: { id: expect.stringMatching(/^200m:-?\d+:-?\d+$/) }, count: expect.any(Number) });
    expect(r.stderr).toMatch(/1533 fixes \(csv\): \d+ cell events; skipped 0, off the grid 0, late 0/);
  });

  it('network info: counts, bbox and load time; a clear error for a broken PBF', async () => {
    const r = await run(['network', 'info', '--json', '../shared/data/osm/monaco.osm.pbf']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ format: 'osm', nodes: expect.any(Number), edges: expect.any(Number), ms: expect.any(Number) });
    expect(info.edges).toBeGreaterThan(4000);
    const k = await run(['network', 'info', '../shared/data/mapmatch-kubicka']);
    expect(k.stdout).toMatch(/edges\s+18,196 directed/);
    const broken = await run(['network', 'info', 'workflows/testdata/good/square.geojson']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^geoflux network: .*square.geojson: not a readable OSM PBF/);
  });

  it('fence reads a trace from standard input, and counts the rows it cannot read', async () => {
    const csv = ['device,lon,lat,time', 'bus,7.405,43.735,0', 'bus,7.415,43.735,1', 'bus,oops,43.735,2', 'bus,7.425,43.735,3'].join('\n');
    const r = await run(['fence', '--fences', 'workflows/testdata/good/square.geojson', '--raw', '-'], csv);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).detect)).toEqual(['enter', 'exit']);
    expect(r.stderr).toMatch(/-: 1 bad rows skipped \(line 4: unreadable time or coordinates\)/);
    // without --raw, debounced: 1 km a second is no vehicle, and three fixes confirm nothing
    const debounced = await run(['fence', '--fences', 'workflows/testdata/good/square.geojson', '-'], csv);
    expect(debounced.code).toBe(0);
    expect(debounced.stdout).toBe('');
    // and the summary says why: the outlier guard discarded the two jumps
    expect(debounced.stderr).toMatch(/3 fixes \(csv\) × 1 fences: 0 events, 0 fixes skipped, 2 discarded as outliers \(too far from their device's last fix for the time between\)/);
  });

  it('fence: the kernel’s debounce defaults, the time of the first fix with --at-first-fix, or the wait counted by the run with --confirm-run', async () => {
    // into the yard across its west side at 10 s, 10 m past it, every third fix 2 m back out; dated at the
    // crossing estimate between the fix 6 m out at 9 s and the one 10 m in at 10 s
    const csv = ['device,lon,lat,time', ...wobblingCrossing([7.41, 43.735], 10, 0).map((f) => `${f.deviceId},${f.lon},${f.lat},${f.t / 1000}`)].join('\n');
    const args = ['fence', '--fences', 'workflows/testdata/good/square.geojson', '--detect', 'enter,exit'];
    const byDefault = await run([...args, '-'], csv);
    expect(byDefault.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((e) => [e.detect, Date.parse(e.time) / 1000, Date.parse(e.confirmed) / 1000])).toEqual([['enter', 9.375, 19]]);
    // --at-first-fix: dated at the first fix on the new side (crossing: false)
    const atFix = await run([...args, '--at-first-fix', '-'], csv);
    expect(atFix.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((e) => [e.detect, Date.parse(e.time) / 1000])).toEqual([['enter', 10]]);
    // by the run, every fix back out starts the wait again: no run of 9 s ever holds
    const byRun = await run([...args, '--confirm-run', '-'], csv);
    expect(byRun.code).toBe(0);
    expect(byRun.stdout).toBe('');
  });

  it('match: matched fixes as JSON lines, the route driven at the end, and a usage error without --network', async () => {
    const K = '../shared/data/mapmatch-kubicka';
    const r = await run(['match', '--network', K, '--route', `${K}/00000000.track`]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.detect === 'matched')).toHaveLength(2503);
    const { route } = lines[lines.length - 1];
    const truth = new Set(readFileSync(`${K}/00000000.route`, 'utf8').trim().split('\n').map(Number));
    expect(route.filter((a: number) => truth.has(a)).length / route.length).toBeGreaterThanOrEqual(0.97);
    expect(r.stderr).toMatch(/2503 fixes \(kubicka-track\): 2503 matched, 0 unmatched/);
    const bad = await run(['match', `${K}/00000000.track`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--network <osm.pbf | kubicka-dir> is required');
  });

  it('sim: the same seed and start give the same file, with ground truth beside it', async () => {
    const dir = mkdtempSync(`${tmpdir()}/geoflux-sim-`);
    const args = (n: number) => ['sim', '--network', MONACO, '--vehicles', '5', '--duration', '60', '--start', '2026-01-01T08:00:00Z', '--seed', '3', '--out', `${dir}/fixes${n}.csv`, '--truth', `${dir}/truth${n}.jsonl`];
    const [a, b] = [await run(args(1)), await run(args(2))];
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/5 vehicles on monaco\.osm\.pbf \(\d+ edges\), seed 3/);
    const read = (f: string) => readFileSync(`${dir}/${f}`, 'utf8');
    expect(read('fixes1.csv')).toBe(read('fixes2.csv'));
    const fixes = read('fixes1.csv').trim().split('\n');
    expect(fixes[0]).toBe('deviceId,time,lon,lat,speed,heading,accuracy');
    expect(fixes[1]).toMatch(/^veh-001,2026-01-01T08:00:0\d\.\d{3}Z,7\.\d{7},43\.\d{7},/);
    const truth = read('truth1.jsonl').trim().split('\n').map((l) => JSON.parse(l));
    expect(truth.length).toBe(fixes.length - 1);
    expect(truth[0]).toMatchObject({ deviceId: 'veh-001', edge: expect.any(Number), wayId: expect.any(Number) });
    const bad = await run(['sim', '--network', MONACO, '--incident', '7.4,43.7,100', '--out', '-']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('expected lon,lat,radius_m,start,duration,slowdown (6 numbers), got 3');
    const noNetwork = await run(['sim', '--out', '-']);
    expect(noNetwork.code).toBe(2);
    expect(noNetwork.stderr).toContain('name the road network: --network <osm.pbf>');
  });

  it('sim --prefix: its own device ids, as builtin:traffic\'s prefix param gives them, so it does not merge with the demo\'s veh-…', async () => {
    const r = await run(['sim', '--network', MONACO, '--vehicles', '3', '--duration', '2', '--prefix', 'edge-b', '--out', '-']);
    expect(r.code).toBe(0);
    const ids = new Set(r.stdout.trim().split('\n').map((l) => JSON.parse(l).deviceId));
    expect(ids).toEqual(new Set(['edge-b-001', 'edge-b-002', 'edge-b-003']));
    const bad = await run(['sim', '--network', MONACO, '--prefix', 'a/b', '--out', '-']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--prefix must be letters, digits, ".", "-" and "_" (got "a/b")');
  });

  it("sim: a scenario's seed holds unless --seed is given", async () => {
    const scenario = 'examples/scenarios/rush-hour.yaml';
    const seed = Number(readFileSync(scenario, 'utf8').match(/^seed: (\d+)/m)![1]);
    const sim = (...flags: string[]) => run(['sim', '--scenario', scenario, '--duration', '10', '--out', '-', ...flags]);
    const [own, same, other] = [await sim(), await sim('--seed', String(seed)), await sim('--seed', String(seed + 1))];
    expect(own.stderr).toContain(`, seed ${seed}, `);
    expect(own.stdout).toBe(same.stdout);
    expect(other.stderr).toContain(`, seed ${seed + 1}, `);
    expect(other.stdout).not.toBe(own.stdout);
  });

  it('replay: Ctrl-C while it still dials a zipper that does not answer ends it at once, with 130', async () => {
    const port = await freePort();
    const p = start(['replay', '--speed', 'max', '--zipper', `quic://127.0.0.1:${port}`, '--insecure', '../shared/data/traces/seattle-newson-krumm-gps.txt']);
    await waitFor(() => p.out.stderr.includes('seattle-newson-krumm-gps.txt: 7531 fixes'), { what: () => `the trace read: ${p.out.stderr}` });
    expect(await stop(p)).toBe(130);
    expect(p.out.stderr).toMatch(new RegExp(`geoflux replay: interrupted while connecting to quic://127\\.0\\.0\\.1:${port} \\(\\d+\\.\\d s, not connected\\)\n$`));
  });

  it('replay: a malformed --cert-hash is one line saying why, before any dial', async () => {
    // were it dialled and retried, this would take connectTimeout, 30 s, past the test's limit
    const r = await run(['replay', '--speed', 'max', '--zipper', `quic://127.0.0.1:${await freePort()}`, '--cert-hash', 'abc', '../shared/data/traces/liverpool-bus-route14-outbound.csv']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('geoflux replay: certHash must be a SHA-256 digest (64 hex digits or base64), got "abc"\n');
  });

  it('replay and sim: connection options no dial mends are refused before the trace or the network is read', async () => {
    // a trace that cannot be read stands for minutes of parsing a big one: the options' error must come first
    const zipper = `quic://127.0.0.1:${await freePort()}`;
    const replay = await run(['replay', '--zipper', zipper, '--cert-hash', 'abc', '/no/such/trace.csv']);
    expect(replay.stderr).toBe('geoflux replay: certHash must be a SHA-256 digest (64 hex digits or base64), got "abc"\n');
    const sim = await run(['sim', '--network', '/no/such/network.osm.pbf', '--zipper', zipper, '--cert-hash', 'abc']);
    expect(sim.stderr).toBe('geoflux sim: certHash must be a SHA-256 digest (64 hex digits or base64), got "abc"\n');
    const scheme = await run(['replay', '--zipper', 'foo://127.0.0.1:9', '--insecure', '/no/such/trace.csv']);
    expect(scheme.stderr).toBe('geoflux replay: unsupported scheme "foo:" in foo://127.0.0.1:9 (use quic://, webtransport://, memory://, port://)\n');
  });

  it('replay and sim: an --out they cannot write is one line saying why, before any work', async () => {
    const dir = mkdtempSync(`${tmpdir()}/geoflux-out-`);
    const replay = await run(['replay', '--speed', 'max', '--out', `${dir}/no/f.csv`, '../shared/data/traces/liverpool-bus-route14-outbound.csv']);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toMatch(new RegExp(`\\ngeoflux replay: cannot write ${dir}/no/f\\.csv: no such directory\\n$`));
    const sim = await run(['sim', '--network', MONACO, '--vehicles', '2', '--duration', '5', '--out', dir]);
    expect(sim.code).toBe(1);
    expect(sim.stderr).toBe(`geoflux sim: cannot write ${dir}: it is a directory\n`);
  });

  it('replay: many files, one device each, bad rows counted and named', async () => {
    const dir = mkdtempSync(`${tmpdir()}/geoflux-replay-`);
    writeFileSync(`${dir}/van.csv`, 'lon,lat,time\n7.41,43.73,2026-01-01T00:00:00Z\nbad,43.73,2026-01-01T00:00:01Z\n7.42,43.73,2026-01-01T00:00:02Z\n');
    const r = await run(['replay', '--speed', 'max', '--out', '-', `${dir}/van.csv`, '../shared/data/traces/seattle-newson-krumm-gps.txt']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe(7531 + 2);
    expect(new Set(lines.map((l) => l.deviceId))).toEqual(new Set(['van', 'seattle-newson-krumm-gps']));
    expect(r.stderr).toMatch(/van\.csv: 2 fixes \(csv\), 1 device, .*; 1 bad rows skipped \(line 3: unreadable time or coordinates\)/);
    // the progress line (the first is written at once) says how far, of how many, and how long is left
    expect(r.stderr).toMatch(/^replay at \S+ · [\d,]+\/7,533 fixes \(\d+ %\) · [\d,]+ fixes\/s · ETA \d+:\d\d:\d\d$/m);
    expect(r.stderr).toMatch(/replayed 7,533 fixes/);
    // paced, it says how long it will take before it starts
    const paced = await run(['replay', '--speed', '2x', '--out', '-', `${dir}/van.csv`]);
    expect(paced.stderr).toContain('replaying 2 fixes of 1 device(s) at 2x, 0:00:01 to play → stdout (jsonl)');
  });

  it('replay: - reads standard input, as sim writes it, and a fix a zipper would refuse is a bad row', async () => {
    const fixes = [{ deviceId: 'v', t: 1000, lon: 7.41, lat: 43.73 }, { deviceId: 'v', t: 2000, lon: 7.41, lat: 95 }, { deviceId: 'v', t: 3000, lon: 7.42, lat: 43.73 }];
    const r = await run(['replay', '--speed', 'max', '--out', '-', '-'], fixes.map((f) => JSON.stringify(f)).join('\n'));
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).t)).toEqual([1000, 3000]);
    expect(r.stderr).toMatch(/^-: 2 fixes \(jsonl\), 1 device, .*; 1 bad rows skipped \(line 2: lat must be a number in \[-90, 90\] \(got 95\)\)$/m);
  });

  it('alerts: "cannot reach" a broker it never reached, "lost" only one it had', async () => {
    const port = await freePort();
    const alerts = start(['alerts', '--mqtt', `mqtt://127.0.0.1:${port}`]);
    let broker: Awaited<ReturnType<typeof startEmbeddedBroker>> | undefined;
    try {
      await waitFor(() => alerts.out.stderr.includes(`cannot reach the broker at mqtt://127.0.0.1:${port}: connect ECONNREFUSED`), 'the first attempt refused');
      expect(alerts.out.stderr).toContain('(retrying). Is geoflux serve running, with an mqtt: section in its workflow? Its banner names its broker (watch: geoflux alerts --mqtt mqtt://127.0.0.1:1883 by default)');
      broker = await startEmbeddedBroker({ port, wsPort: false });
      await waitFor(() => alerts.out.stderr.includes('subscribed to geoflux/alerts/#'), 'the subscription');
      expect(alerts.out.stderr.match(/cannot reach/g)).toHaveLength(1);
      expect(alerts.out.stderr).not.toContain('lost');
      await broker.close();
      broker = undefined;
      await waitFor(() => alerts.out.stderr.includes(`lost broker mqtt://127.0.0.1:${port}; retrying`), 'the loss');
    } finally {
      await broker?.close();
      expect(await stop(alerts)).toBe(0);
    }
  });

  it('alerts: --url is taken for --mqtt in the error (status: for --metrics), and a URL that is no broker\'s is named', async () => {
    const url = await run(['alerts', '--url', 'mqtt://127.0.0.1:1883']);
    expect(url.stderr).toContain(`Unknown option '--url' (did you mean "--mqtt"?)`);
    expect(url.code).toBe(2);
    const bogus = await run(['alerts', '--mqtt', 'bogus']);
    expect(bogus.stderr).toContain('--mqtt "bogus" is no broker URL (Missing protocol): mqtt://host:1883, or mqtts://, ws://, wss://');
    expect(bogus.code).toBe(2);
    const status = await run(['status', '--url', '9464']);
    expect(status.stderr).toContain(`Unknown option '--url' (did you mean "--metrics"?)`);
    const web = await run(['alerts', '--mqtt', 'http://127.0.0.1:8080']);
    expect(web.stderr).toContain('--mqtt "http://127.0.0.1:8080" is no broker URL (http:// is not a broker\'s): mqtt://host:1883, or mqtts://, ws://, wss://');
    expect(web.code).toBe(2);
  });

  it('deploy refuses a file that is no WebAssembly module, or does not compile, before it sends anything, naming it', async () => {
    const file = `${mkdtempSync(`${tmpdir()}/geoflux-deploy-`)}/fence.wasm`;
    writeFileSync(file, '');
    const r = await run(['deploy', file, '--name', 'fence', '--observe', 'gps']);
    expect(r.stderr).toBe(`geoflux deploy: ${file}: not a WebAssembly module (0 bytes)\n`);
    expect(r.code).toBe(2);    // one that starts right but V8 refuses is named here too, as the deployer's file (serve would name its stored copy)
    writeFileSync(file, new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]));
    // a zipper on a free port, not the default's: were the module not refused here, nothing is deployed anywhere
    const v2 = await run(['deploy', file, '--name', 'fence', '--observe', 'gps', '--zipper', `127.0.0.1:${await freePort()}`]);
    expect(v2.stderr).toBe(`geoflux deploy: ${file}: not a valid WebAssembly module: expected version 01 00 00 00, found 02 00 00 00 @+4\n`);
    expect(v2.code).toBe(2);
    // a built-in kernel's name is no file: where its .wasm is, not ENOENT alone
    const builtin = await run(['deploy', 'geofence', '--name', 'fence', '--observe', 'gps', '--zipper', `127.0.0.1:${await freePort()}`]);
    expect(builtin.stderr).toBe('geoflux deploy: deploy takes a kernel\'s .wasm file; "geofence" is a built-in kernel, whose .wasm is dist/kernels/build/geofence.wasm (a workflow\'s functions run built-ins by name: kernel: geofence)\n');
    expect(builtin.code).toBe(2);
  });

  it('status --cluster names the NATS server it cannot reach', async () => {
    const port = await freePort();
    const file = `${mkdtempSync(`${tmpdir()}/geoflux-status-`)}/cluster.yaml`;
    writeFileSync(file, `name: lonely\nlisten: [quic://127.0.0.1:0]\ncluster: { nats: nats://127.0.0.1:${port} }\ntags: { gps: 16 }\nfunctions: []\n`);
    const r = await run(['status', '--cluster', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach the cluster's NATS at nats://127.0.0.1:${port} (connection refused; is nats-server running?)`);
  });

  it('status --metrics takes a URL, a port or host:port', () => {
    expect(['9465', '10.0.0.7:9464', 'http://gw:9464/metrics'].map(metricsUrl)).toEqual(['http://127.0.0.1:9465/metrics', 'http://10.0.0.7:9464/metrics', 'http://gw:9464/metrics']);
  });

  it('worker --checkpoint-every takes ms or seconds, and refuses what is neither', () => {
    expect(['5000', '250ms', '5s', '0.5s'].map(milliseconds)).toEqual([5000, 250, 5000, 500]);
    expect(() => milliseconds('5x')).toThrow('--checkpoint-every takes a time of at least 10 ms: 5000, 5000ms or 5s (got "5x")');
  });
});
