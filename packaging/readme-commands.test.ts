import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLANG_WASI, MOSQUITTO_PUB, MOSQUITTO_SUB, requireTool, SYSTEM_TOOLS, type SystemTool } from '../testing/system-tool.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * Every line of README.md's ```sh blocks, run as printed from the repository root — through bash, for its
 * pipes and globs; `npx geoflux …` as a user types it — so no command in the README can fail without a red
 * test. A line that talks to a zipper (or its MQTT broker) runs against the `serve` line before it in its
 * block, or against the demo, `npm start`, when its block has none. A line that runs until Ctrl-C gets one
 * (SIGINT to its process group, as a terminal sends it) once it prints what proves it works, and must then
 * exit cleanly. The demo's workflow listens on fixed ports (QUIC 9000, WebTransport 9443, MQTT 1883 and
 * 8083), as do the example workflows; the lines here run one after another, and every other test file
 * binds port 0, which the system picks from its ephemeral range, far from those.
 */

const README = 'README.md';
const ROOT = resolve('.');

/** Commands (a line, or one side of its `&&`) that are not run, and why. */
const NOT_RUN: Record<string, string> = {
  'npm install': 'the step before `npm test`, which .ci/run takes first; here its prepare would rebuild dist/ under the test files that run from it',
  'npm test': 'it runs this test',
  'npm pack': 'npm test has built dist/, and packaging/consumer.test.ts packs it; here its prepare would rebuild dist/ under the test files that run from it',
  'npm install ../geoflux/geoflux-0.1.0.tgz rxjs': "a user's project installing the package: packaging/consumer.test.ts runs this line in a scratch project, with its tarball's path",
};

interface Output {
  stdout: string;
  stderr: string;
}

interface Check {
  /** it runs until Ctrl-C: what it prints, or makes its zipper print, once it works */
  until?: (o: Output, zipper: Output) => boolean;
  /** what holds once it has exited */
  then?: (o: Output, zipper: Output) => void;
  /** files it writes in the repository, removed after it */
  writes?: string[];
  /** how long it may take to prove itself (or, without `until`, to finish) */
  ms?: number;
  /** tools it needs that it does not run itself (a kernel an earlier line built with clang) */
  tools?: SystemTool[];
}

const ALERT_LINE = /^\d\d:\d\d:\d\d {2}geofence (enter|exit) +\S+ /m;
const jsonLines = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
/** a source's connection as the zipper logs it: over QUIC from another process, over a message port from serve's own thread */
const connected = (client: string, zipper: Output, over: 'quic' | 'port' = 'quic') => new RegExp(`source "${client}" \\(${over}://[^)]+\\) connected over ${over}`).test(zipper.stderr);
/** Ctrl-C on a serve whose functions are all its own: everything handed on before it goes, none waited out */
const stoppedCleanly = (o: Output) => {
  expect(o.stderr).toMatch(/\[serve\] done:/);
  expect(o.stderr, 'serve stopped with nothing unacknowledged').not.toContain('not yet acknowledged');
};
const SCENARIO_SEED = Number(readFileSync('examples/scenarios/rush-hour.yaml', 'utf8').match(/^seed: (\d+)/m)?.[1]);

/** What proves each line works, by the command it runs; a line without one must just finish, and exit 0. */
/** an edge of the cluster: it listens, and it publishes to the stream (which may come first, when the stream is there already) */
const clusterEdge = (o: Output) => /listening on:/.test(o.stderr) && /\[cluster\] publishing gps to JetStream stream "city"/.test(o.stderr);
const CHECKS: Record<string, Check> = {
  'nats-server -js -sd /tmp/geoflux-nats': { until: (o) => /Server is ready/.test(o.stderr) },
  'npx geoflux serve workflows/examples/cluster.yaml': { until: clusterEdge, then: stoppedCleanly },
  'EDGE=b QUIC_PORT=9001 MQTT_PORT=1884 MQTT_WS_PORT=8084 METRICS_PORT=9465 DASHBOARD_PORT=8081 npx geoflux serve workflows/examples/cluster.yaml': { until: clusterEdge, then: stoppedCleanly },
  'npx geoflux worker workflows/examples/cluster.yaml': {
    // holding its share: the first worker takes all 8 partitions, the second is handed 4 (status comes after)
    until: (o) => (o.stderr.match(/partition \d+: taken, /g) ?? []).length >= 4,
    then: (o) => expect(o.stderr).toMatch(/\[worker [^\]]+\] done: \{"partitions":\[\],/),
  },
  'npx geoflux status --cluster workflows/examples/cluster.yaml': {
    then: (o) => {
      expect(o.stdout).toMatch(/^cluster: stream "city" at nats:\/\/127\.0\.0\.1:4222 · /m);
      expect(o.stdout).toMatch(/^edges: city at quic:\/\/127\.0\.0\.1:9000 \(\S+\), city at quic:\/\/127\.0\.0\.1:9001 \(\S+\) · workers: \S+, \S+$/m);
      expect(o.stdout).not.toMatch(/UNHELD/);
    },
  },
  'npx geoflux deploy examples/kernels/c/speeding.wasm --where cloud --name speeding --observe gps --emit fences --params \'{"limit": 13}\' --insecure': {
    // a block run again over the same store finds it deployed already
    then: (o) => expect(o.stdout).toMatch(/^function "speeding" (runs kernel [0-9a-f]{64} .* on 2 workers \(\S+, \S+\) of stream "city"|already runs kernel [0-9a-f]{64} on the cluster's workers)/),
  },
  'npx geoflux alerts --kind geofence': { until: (o) => /^\d\d:\d\d:\d\d {2}geofence (enter|exit) +a-\d+ /m.test(o.stdout) && /^\d\d:\d\d:\d\d {2}geofence (enter|exit) +b-\d+ /m.test(o.stdout) },
  'npm start': {
    until: (o) => ALERT_LINE.test(o.stdout),
    then: (o) => {
      expect(o.stderr).toMatch(/\[serve\] done: \{"accepted":\d+,"rejected":0,/);
      stoppedCleanly(o);
    },
  },
  'npm start -- --as osmand': {
    until: (o) => /sending fixes as Traccar Client phones do, to the osmand listener at http:\/\/127\.0\.0\.1:5055/.test(o.stderr) && ALERT_LINE.test(o.stdout),
    // what the simulated phones were sending when Ctrl-C came is counted unsent ("the source is stopping")
    then: stoppedCleanly,
  },
  'npx geoflux alerts': {
    until: (o) => ALERT_LINE.test(o.stdout),
    then: (o) => expect(o.stderr).toMatch(/\[alerts\] [1-9][\d,]* alerts/),
  },
  'npx geoflux alerts --kind hotspot --json': {
    // the hotspot kernel scores its window every 30 s, once the congestion near the Casino has built up
    until: (o) => /^\{"kind":"hotspot"/m.test(o.stdout),
    then: (o) => expect(new Set(jsonLines(o.stdout).map((e) => e.kind))).toEqual(new Set(['hotspot'])),
    ms: 180_000,
  },
  'npx geoflux status': {
    then: (o) => {
      expect(o.stdout).toMatch(/^geoflux serve at http:\/\/127\.0\.0\.1:9464\/metrics$/m);
      expect(o.stdout).toMatch(/^in: gps \d[\d,]*\/s/m);
      expect(o.stdout).toMatch(/^ {2}mapmatch +2 instance\(s\) · backlog \d+ unacked, 0 waiting/m);
      expect(o.stdout).toMatch(/^mqtt alerts-out: connected/m);
    },
  },
  // the demo's fleet index, asked over the dashboard's /v1/ API: by now (an alert printed) every vehicle is in it
  "curl -sf 'http://127.0.0.1:8080/v1/nearby?lon=7.4267&lat=43.7396&k=5&radius=1000'": {
    then: (o) => {
      const { count, items } = JSON.parse(o.stdout) as { count: number; items: { deviceId: string; distance: number }[] };
      expect(count).toBe(5);
      expect(items.map((v) => v.distance)).toEqual(items.map((v) => v.distance).sort((a, b) => a - b));
      for (const v of items) expect(v).toMatchObject({ deviceId: expect.stringMatching(/^veh-\d+$/), distance: expect.any(Number) });
    },
  },
  "curl -sf 'http://127.0.0.1:8080/v1/within?bbox=7.42,43.73,7.43,43.74'": {
    then: (o) => {
      const { count, items } = JSON.parse(o.stdout) as { count: number; items: { lon: number; lat: number }[] };
      expect(count).toBeGreaterThan(0);
      for (const v of items) expect(v.lon >= 7.42 && v.lon <= 7.43 && v.lat >= 43.73 && v.lat <= 43.74).toBe(true);
    },
  },
  'curl -sf http://127.0.0.1:8080/v1/fields -d \'{"deviceId":"veh-001","fields":{"status":"free"}}\'': {
    then: (o) => expect(JSON.parse(o.stdout)).toMatchObject({ deviceId: 'veh-001', fields: { status: 'free' } }),
  },
  "curl -sf 'http://127.0.0.1:8080/v1/nearby?lon=7.4267&lat=43.7396&k=5&where=status:free'": {
    then: (o) => expect(JSON.parse(o.stdout)).toMatchObject({ count: 1, items: [{ deviceId: 'veh-001', fields: { status: 'free' } }] }),
  },
  'npx geoflux query nearby --lon 7.4267 --lat 43.7396 -k 5 --radius 1000': {
    then: (o) => {
      expect(jsonLines(o.stdout)).toHaveLength(5);
      expect(o.stderr).toBe('5 vehicles\n');
    },
  },
  "mosquitto_sub -t 'geoflux/state/#' -v": {
    until: (o) => /^geoflux\/state\/\S+ \{/m.test(o.stdout),
    then: (o) => {
      for (const line of o.stdout.trim().split('\n')) {
        const m = line.match(/^geoflux\/state\/(\S+) (\{.*\})$/);
        expect(m, line).not.toBeNull();
        expect(JSON.parse(m![2])).toMatchObject({ deviceId: m![1] });
      }
    },
  },
  'npx geoflux serve workflows/examples/remote-sfn.yaml': {
    until: (o) => /SHA-256 [0-9a-f]{64}/.test(o.stderr) && connected('demo-fleet', o, 'port'),
    // not stoppedCleanly: its remote function has had its Ctrl-C first, so what the source wrote since waits
    // for a function that is gone, and serve rightly says so
    then: (o) => expect(o.stderr).toMatch(/\[serve\] done:/),
  },
  // with no --token, and GEOFLUX_TOKEN unset: the default must be the one the workflows fall back on
  'npx geoflux run workflows/examples/speeding.ts --cert-hash <sha256 printed by serve> --params \'{"limitKmh": 65}\'': {
    until: (_, zipper) => /^\{"kind":"speeding","deviceId":"veh-\d+",.*"kmh":(6[6-9]|[7-9]\d|\d{3})\}$/m.test(zipper.stdout),
    then: (o, zipper) => {
      expect(o.stderr).toMatch(/stopping: received [1-9]\d*, emitted [1-9]\d*, errors 0/);
      expect(zipper.stderr).not.toMatch(/rejected/);
    },
  },
  'npx geoflux fence --fences ../shared/data/fences/seattle-neighborhoods.geojson ../shared/data/traces/seattle-newson-krumm-gps.txt': {
    then: (o) => {
      expect(jsonLines(o.stdout)[0]).toMatchObject({ kind: 'geofence', detect: 'enter', fence: { id: 'Mount Baker' } });
      expect(o.stderr).toMatch(/7531 fixes \(newson-krumm\) × 90 fences: [1-9]\d* events, 0 fixes skipped/);
    },
  },
  'npx geoflux hotspot --cell 200 --band 400 --window 600 ../shared/data/traces/liverpool-bus-route14-outbound.csv': {
    then: (o) => {
      expect(jsonLines(o.stdout)).toContainEqual(expect.objectContaining({ kind: 'hotspot', detect: 'hot', cell: expect.objectContaining({ id: expect.stringMatching(/^200m:/) }) }));
      expect(o.stderr).toMatch(/1533 fixes \(csv\): [1-9]\d* cell events/);
    },
  },
  // the C kernel the line before builds (examples/kernels/build.ts builds it there too)
  'npx geoflux kernel examples/kernels/c/speeding.wasm --describe': {
    tools: [CLANG_WASI],
    then: (o) => expect(o.stdout).toMatch(/^speeding: a row for every fix faster than the limit\n\nparams:\n {2}limit /),
  },
  'npx geoflux kernel examples/kernels/c/speeding.wasm --check': {
    tools: [CLANG_WASI],
    then: (o) => expect(o.stdout).toMatch(/^all [1-9]\d* checks pass$/m),
  },
  'npx geoflux sim --network ../shared/data/osm/monaco.osm.pbf --vehicles 20 --duration 120 --out - | npx geoflux kernel examples/kernels/c/speeding.wasm --params \'{"limit": 50, "unit": "km/h"}\' -': {
    tools: [CLANG_WASI],
    then: (o) => {
      const rows = jsonLines(o.stdout);
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(r).toMatchObject({ kind: 'speeding', deviceId: expect.stringMatching(/^veh-/), speed: expect.any(Number) });
      expect(rows.every((r) => (r.speed as number) > 50 / 3.6)).toBe(true);
    },
  },
  'npx geoflux serve examples/kernels/speeding.yaml': {
    tools: [CLANG_WASI],
    until: (o) => /^\{"kind":"speeding","deviceId":"veh-\d+",/m.test(o.stdout),
    then: stoppedCleanly,
  },
  // against npm start, whose workflow has control: (README, Deploy a kernel while it runs); the kernel is the one section 6 builds
  'npx geoflux deploy examples/kernels/c/speeding.wasm --name speeding --observe gps --emit speeding --params \'{"limit": 13}\' --min 1 --max 4 --insecure': {
    tools: [CLANG_WASI],
    then: (o, zipper) => {
      expect(o.stdout).toMatch(/^function "speeding" (runs|already runs) kernel [0-9a-f]{64}/m);
      expect(zipper.stderr).toMatch(/control "geoflux-control" \(quic:\/\/[^)]+\): deploy "speeding"/);
    },
  },
  'npx geoflux functions --insecure': {
    then: (o) => {
      expect(o.stdout).toMatch(/^mapmatch +workflow +mapmatch +gps +matched +2$/m);
      expect(o.stdout).toMatch(/^speeding +deployed +[0-9a-f]{12} +gps +speeding +1 \(1-4\)$/m);
    },
  },
  // a new version (other params) of the running deployment replaces it (docs/serverless.md, Replacing a version);
  // speeding keeps no state, so there is none to hand over
  'npx geoflux deploy examples/kernels/c/speeding.wasm --name speeding --observe gps --emit speeding --params \'{"limit": 15}\' --min 1 --max 4 --insecure': {
    tools: [CLANG_WASI],
    then: (o) => expect(o.stdout).toMatch(/^function "speeding" runs kernel [0-9a-f]{64} .*; replaced the same kernel with other settings, no state to hand over \(the running version held none\), frames held \d+ ms during the switch$/m),
  },
  'npx geoflux alerts --kind speeding --count 3': {
    then: (o) => expect(o.stdout.trim().split('\n')).toEqual(Array(3).fill(expect.stringMatching(/^\d\d:\d\d:\d\d {2}speeding +veh-\d+ /))),
  },
  // the deployed kernel's lines: serve's own about its start, at least
  'npx geoflux logs speeding --insecure': {
    then: (o) => expect(o.stdout).toMatch(/\[serve\] function "speeding(@\d+)?": 1 local instance of kernel /),
  },
  'npx geoflux undeploy speeding --insecure': {
    then: (o) => expect(o.stdout).toBe('function "speeding" undeployed\n'),
  },
  'npx geoflux serve workflows/examples/devices.yaml': {
    // every listener up, OwnTracks subscribed, and the simulated phones' fixes through the osmand listener
    until: (o) =>
      /reading OwnTracks from owntracks\/\+\/\+/.test(o.stderr) && /listening for Teltonika trackers on tcp:\/\/127\.0\.0\.1:5027/.test(o.stderr) && /^\{"deviceId":"veh-/m.test(o.stdout),
    then: (o) => {
      expect(o.stdout).toMatch(/^\{"deviceId":"my-phone",.*"lon":7\.4246,"lat":43\.7384/m);
      expect(o.stdout).toMatch(/^\{"deviceId":"anna\/pixel","t":1767225600000,/m);
      stoppedCleanly(o);
    },
  },
  'mosquitto_pub -t owntracks/anna/pixel -m \'{"_type":"location","lat":43.739,"lon":7.427,"tst":1767225600,"vel":20,"acc":10}\'': { tools: [MOSQUITTO_PUB] },
  'npx geoflux serve workflows/examples/seattle-geofence.yaml': {
    until: (o) => /^\{"kind":"geofence","detect":"enter",.*"deviceId":"seattle-newson-krumm-gps"/m.test(o.stdout),
    then: stoppedCleanly,
  },
  'npx geoflux match --network ../shared/data/mapmatch-kubicka --route ../shared/data/mapmatch-kubicka/00000000.track': {
    then: (o) => expect(jsonLines(o.stdout).filter((l) => l.detect === 'matched')).toHaveLength(2503),
  },
  'npx geoflux sim --network ../shared/data/osm/monaco.osm.pbf --vehicles 2000 --prefix sim --speed 10x --zipper quic://127.0.0.1:9000 --insecure': {
    until: (o, zipper) => connected('geoflux-sim', zipper) && /· connected, \d+ unacked/.test(o.stderr),
    then: (o, zipper) => {
      expect(o.stderr).toMatch(/^[1-9][\d,]* fixes from 2000 vehicles over /m);
      expect(zipper.stderr).not.toMatch(/rejected/);
    },
  },
  'npx geoflux sim --network ../shared/data/osm/monaco.osm.pbf --vehicles 20 --duration 600 --noise 10 --out fixes.csv --truth truth.jsonl --start 2026-01-01T08:00:00Z': {
    writes: ['fixes.csv', 'truth.jsonl'],
    then: (o) => {
      const [header, ...rows] = readFileSync('fixes.csv', 'utf8').trim().split('\n');
      expect(header).toBe('deviceId,time,lon,lat,speed,heading,accuracy');
      expect(new Set(rows.map((r) => r.split(',')[0])).size).toBe(20);
      expect(rows[0]).toMatch(/^veh-\d+,2026-01-01T08:00:0\d\.\d{3}Z,7\.\d+,43\.\d+,/);
      expect(rows.every((r) => r.endsWith(',10'))).toBe(true);
      const truth = jsonLines(readFileSync('truth.jsonl', 'utf8'));
      expect(truth).toHaveLength(rows.length);
      expect(truth[0]).toMatchObject({ deviceId: expect.stringMatching(/^veh-/), edge: expect.any(Number), wayId: expect.any(Number) });
      expect(o.stderr).toMatch(/20 vehicles on monaco\.osm\.pbf .*, seed 1, /);
    },
  },
  'npx geoflux sim --scenario examples/scenarios/rush-hour.yaml --out - | npx geoflux match --network ../shared/data/osm/monaco.osm.pbf -': {
    then: (o) => {
      const matched = jsonLines(o.stdout);
      expect(new Set(matched.map((m) => String(m.deviceId).split('-')[0]))).toEqual(new Set(['car', 'van', 'bus']));
      expect(matched.filter((m) => m.detect === 'matched').length / matched.length).toBeGreaterThan(0.95);
      expect(o.stderr).toMatch(new RegExp(`vehicles on monaco\\.osm\\.pbf .*, seed ${SCENARIO_SEED}, 2 incident\\(s\\)`));
      expect(o.stderr).toMatch(/^[1-9][\d,]* fixes \(jsonl\): [1-9]\d* matched/m);
    },
  },
  'npx geoflux replay ../shared/data/traces/liverpool-bus-route14-outbound.csv --speed 20x --zipper quic://127.0.0.1:9000 --insecure': {
    until: (o, zipper) => connected('geoflux-replay', zipper) && /^replay at .* · connected, \d+ unacked/m.test(o.stderr),
    then: (o, zipper) => {
      expect(o.stderr).toMatch(/^replayed [1-9][\d,]* fixes/m);
      expect(zipper.stderr).not.toMatch(/rejected/);
    },
  },
};

/** Placeholders a README line may hold, and what a user puts there. */
const PLACEHOLDERS: Record<string, (zipper: Output) => string | undefined> = {
  '<sha256 printed by serve>': (zipper) => zipper.stderr.match(/SHA-256 ([0-9a-f]{64})/)?.[1],
};

interface Line {
  block: number;
  /** as printed, with its comment */
  printed: string;
  /** what runs: the line without its comment and without the commands NOT_RUN lists ('' for none) */
  command: string;
  /** the `# …` lines under it: what it prints, `…` standing for what varies */
  sample: string[];
}

const uncommented = (printed: string) => printed.replace(/\s+#(\s.*)?$/, '');

function readmeLines(markdown: string): Line[] {
  const lines: Line[] = [];
  [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].forEach(([, body], block) => {
    for (const printed of body.split('\n').filter((l) => l.trim())) {
      if (printed.startsWith('#')) {
        const last = lines.at(-1);
        if (last?.block !== block) throw new Error(`${README}: "${printed}" is output, but of no command in its block`);
        last.sample.push(printed.replace(/^# ?/, ''));
        continue;
      }
      const command = uncommented(printed)
        .split(' && ')
        .filter((c) => !(c in NOT_RUN))
        .join(' && ');
      lines.push({ block, printed, command, sample: [] });
    }
  });
  return lines;
}

const LINES = readmeLines(readFileSync(README, 'utf8'));
const RUN = LINES.filter((l) => l.command);
/**
 * Blocks whose lines run side by side, each in a terminal of its own (Scaling out: NATS, edges, workers):
 * started in order, each left running once it proves itself, and all stopped by Ctrl-C at the end.
 */
const TOGETHER = new Set(RUN.filter((l) => /^npx geoflux worker\b/.test(l.command)).map((l) => l.block));
const SERVES = /^(npm start|npx geoflux serve)\b/;
const NEEDS_ZIPPER = /^(npx geoflux (run|alerts|status|query|deploy|functions|logs|undeploy)|mosquitto_(sub|pub)|curl)\b|--zipper|--cert-hash/;
const DEMO = RUN.find((l) => l.command === 'npm start');
/** the zipper a line talks to: the serve line before it in its block, else the demo */
const zipperOf = (line: Line): Line | undefined => {
  if (!NEEDS_ZIPPER.test(line.command) || TOGETHER.has(line.block)) return undefined;
  return RUN.slice(0, RUN.indexOf(line)).filter((l) => l.block === line.block && SERVES.test(l.command)).at(-1) ?? DEMO;
};
const GROUPS = new Map<Line, Line[]>();
for (const line of RUN.filter((l) => !TOGETHER.has(l.block))) {
  const zipper = zipperOf(line);
  if (zipper) GROUPS.set(zipper, [...(GROUPS.get(zipper) ?? []), line]);
}
const ON_THEIR_OWN = RUN.filter((l) => !GROUPS.has(l) && !zipperOf(l) && !TOGETHER.has(l.block));
/** the programs a command starts: the first word of each piece of a pipeline or list (after its VAR=value settings) */
const programs = (command: string) => command.split(/\s*(?:&&|\|\|?|;)\s*/).map((c) => c.split(/\s+/).find((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w))!);
/** geoflux processes a command starts, each of which must exit 0 */
const geofluxProcesses = (command: string) => command.match(/\b(npx geoflux|npm start)\b/g)?.length ?? 0;

const scratch = mkdtempSync(join(tmpdir(), 'geoflux-readme-'));
// a user's shell: none of what npm test and vitest add, no GEOFLUX_* (the token, the log level: their defaults
// are what is tested), npm's cache empty as on a fresh machine, and each Node process writing down its exit
const ENV: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GEOFLUX_|VITEST|npm_lifecycle_|npm_package_)|^(NODE_OPTIONS|NODE_ENV|INIT_CWD|npm_command)$/.test(k))),
  PATH: (process.env.PATH ?? '').split(delimiter).filter((d) => !d.includes(`node_modules${sep}.bin`)).join(delimiter),
  npm_config_cache: join(scratch, 'npm-cache'),
  NODE_OPTIONS: `--import=${pathToFileURL(join(ROOT, 'packaging/record-exit.mjs')).href}`,
};
const BUILT = 'dist/cli/main.js';
const built = existsSync(BUILT) ? statSync(BUILT).mtimeMs : undefined;

interface Running extends Output {
  line: Line;
  command: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  done: boolean;
  ctrlC(): void;
  kill(): void;
  exits(): number[];
}

const running = new Set<Running>();
let started = 0;

function start(line: Line, zipper?: Output): Running {
  let command = line.command;
  for (const [placeholder, value] of Object.entries(PLACEHOLDERS)) {
    if (!command.includes(placeholder)) continue;
    const v = zipper && value(zipper);
    if (!v) throw new Error(`nothing to put for ${placeholder}: its zipper printed no such thing`);
    command = command.replaceAll(placeholder, v);
  }
  const exits = join(scratch, `exits-${++started}.jsonl`);
  const child = spawn('bash', ['-o', 'pipefail', '-c', command], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...ENV, GEOFLUX_README_EXITS: exits } });
  const r: Running = {
    line,
    command,
    stdout: '',
    stderr: '',
    done: false,
    exited: new Promise((res) => child.on('close', (code, signal) => res({ code, signal }))),
    // as a terminal does it: the whole foreground job, npm, npx and geoflux alike
    ctrlC: () => process.kill(-child.pid!, 'SIGINT'),
    kill: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the whole group has gone already
      }
    },
    exits: () =>
      (existsSync(exits) ? readFileSync(exits, 'utf8').trim().split('\n') : [])
        .map((l) => JSON.parse(l) as { argv: string[]; code: number })
        .filter((e) => /^geoflux(\.js)?$/.test(basename(e.argv[0] ?? '')))
        .map((e) => e.code),
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (r.stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (r.stderr += d));
  running.add(r);
  void r.exited.then(() => ((r.done = true), running.delete(r)));
  return r;
}

const tail = (what: string, text: string) => `--- ${what}:\n${text.slice(-3000)}`;
const report = (r: Running, zipper?: Output) =>
  [tail(`${r.command} (stdout)`, r.stdout), tail('stderr', r.stderr), ...(zipper ? [tail('its zipper, stdout', zipper.stdout), tail('stderr', zipper.stderr)] : [])].join('\n');

/** waits for a running line to do what `ok` checks, or to exit first; either failure shows what it printed */
const waitOn = (r: Running, ok: () => boolean, ms: number, what: string, zipper?: Output) =>
  waitFor(ok, { ms, every: 100, what: () => `${what}\n${report(r, zipper)}`, abandon: () => (r.done ? 'exited' : undefined) });

const check = (line: Line): Check => CHECKS[line.command] ?? {};
const NO_ZIPPER: Output = { stdout: '', stderr: '' };

/** starts a line; one that runs until Ctrl-C is left running once it proves it works */
async function launch(line: Line, zipper?: Running): Promise<Running> {
  const needs = zipperOf(line);
  if (needs && (!zipper || zipper.done)) throw new Error(`needs \`${needs.command}\` running, and it is not`);
  const r = start(line, zipper);
  const { until, ms = 60_000 } = check(line);
  if (until) await waitOn(r, () => until(r, zipper ?? NO_ZIPPER), ms, 'proved to work', zipper).catch((e) => (r.kill(), Promise.reject(e)));
  return r;
}

/** Ctrl-C for a line that runs until it; then what must hold of how it ended and what it printed */
async function finish(r: Running, zipper?: Output): Promise<void> {
  const c = check(r.line);
  const interrupted = Boolean(c.until);
  if (interrupted) r.ctrlC();
  const ms = interrupted ? 30_000 : (c.ms ?? 120_000);
  await waitOn(r, () => r.done, ms, interrupted ? 'stopped by Ctrl-C' : 'finished', zipper).catch((e) => (r.kill(), Promise.reject(e)));
  const exit = await r.exited;
  // npm and npx re-raise the Ctrl-C they got; the geoflux processes under them tell how they ended
  if (!(interrupted && programs(r.command).some((p) => p === 'npm' || p === 'npx'))) expect(exit, report(r, zipper)).toEqual({ code: 0, signal: null });
  expect(r.exits(), `exit codes of the geoflux processes\n${report(r, zipper)}`).toEqual(Array(geofluxProcesses(r.command)).fill(0));
  expect(r.stderr, 'no Node warning, no stack trace').not.toMatch(/\(node:\d+\) \w*Warning|^\s+at .+:\d+:\d+\)?$/m);
  for (const sample of r.line.sample) {
    const pattern = new RegExp(`^${sample.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll('…', '.*')}$`, 'm');
    expect(`${r.stdout}\n${r.stderr}`, `the output the README shows under it: ${sample}`).toMatch(pattern);
  }
  c.then?.(r, zipper ?? NO_ZIPPER);
  if (built !== undefined) expect(statSync(BUILT).mtimeMs, 'dist/ as npm test built it').toBe(built);
}

/** the system tools a line runs must be installed: skipped where they are not, failed under CI */
function requireTools(ctx: { skip(note: string): never }, line: Line): void {
  for (const p of programs(line.command)) {
    const tool = SYSTEM_TOOLS.find((t) => t.command === p);
    if (tool) requireTool(ctx, tool);
  }
  for (const tool of check(line).tools ?? []) requireTool(ctx, tool);
}

/** one line, start to end, against its zipper if it has one */
async function runLine(ctx: { skip(note: string): never }, line: Line, zipper?: Running): Promise<void> {
  requireTools(ctx, line);
  try {
    await finish(await launch(line, zipper), zipper);
  } finally {
    for (const f of check(line).writes ?? []) rmSync(f, { force: true });
  }
}

const timeout = (line: Line) => (check(line).ms ?? 120_000) + 60_000;

afterAll(() => {
  for (const r of running) r.kill();
  rmSync(scratch, { recursive: true, force: true });
});

describe(`${README}: every sh line runs as printed`, () => {
  it('runs every line, or says why not; its checks, placeholders and tools are of lines it has', () => {
    const commands = LINES.flatMap((l) => uncommented(l.printed).split(' && '));
    expect(Object.keys(NOT_RUN).filter((c) => !commands.includes(c)), 'NOT_RUN names what the README no longer has').toEqual([]);
    expect(Object.keys(CHECKS).filter((c) => !RUN.some((l) => l.command === c)), 'CHECKS for lines the README no longer has').toEqual([]);
    expect(DEMO, 'the demo, `npm start`, that lines without a serve line of their own talk to').toBeDefined();
    for (const l of RUN) {
      expect(l.command.replace(/<[^<>]+>/g, (p) => (p in PLACEHOLDERS ? '' : p)), `a placeholder this test knows no value for, in: ${l.printed}`).not.toMatch(/<[^<>]+>/);
      for (const p of programs(l.command)) expect(['npm', 'npx', ...SYSTEM_TOOLS.map((t) => t.command)], `${p}, in: ${l.printed} (a system tool? add it to SYSTEM_TOOLS)`).toContain(p);
    }
    // each line that is not listed is run: with its zipper, as one, or on its own
    expect(new Set([...GROUPS.keys(), ...[...GROUPS.values()].flat(), ...ON_THEIR_OWN, ...RUN.filter((l) => TOGETHER.has(l.block))])).toEqual(new Set(RUN));
  });

  for (const [zipper, lines] of GROUPS) {
    describe(`against \`${zipper.command}\``, () => {
      let z: Running | undefined;
      it(zipper.command, { timeout: timeout(zipper) }, async (ctx) => {
        requireTools(ctx, zipper);
        z = await launch(zipper);
      });
      for (const line of lines) it(line.command, { timeout: timeout(line) }, (ctx) => runLine(ctx, line, z));
      it(`${zipper.command}: Ctrl-C stops it cleanly`, { timeout: 60_000 }, async () => {
        if (!z) throw new Error(`\`${zipper.command}\` did not start`);
        await finish(z);
      });
    });
  }

  for (const line of ON_THEIR_OWN) it(line.command, { timeout: timeout(line) }, (ctx) => runLine(ctx, line));

  for (const block of TOGETHER) {
    const lines = RUN.filter((l) => l.block === block);
    describe(`side by side, in terminals of their own: ${lines.map((l) => programs(l.command).join(' ')).join(', ')}`, () => {
      const up: Running[] = [];
      for (const line of lines) {
        it(line.command, { timeout: timeout(line) }, async (ctx) => {
          requireTools(ctx, line);
          const r = await launch(line);
          if (check(line).until) up.push(r);
          else await finish(r);
        });
      }
      it('Ctrl-C stops each cleanly, the last started first', { timeout: 120_000 }, async () => {
        for (const r of up.reverse()) await finish(r);
      });
    });
  }
});
