import { DETECTS } from '../kernels/geofence.ts';
import { BUILTIN_KERNELS } from '../kernels/host/builtin-wasm.ts';
import type { CommandSpec, FlagSpec } from './args.ts';

/**
 * Every command's flags, usage and help, in one place and with nothing heavy imported, so `geoflux --help`
 * (and a command's `--help`) is answered without loading the zipper, the transports or the kernels.
 */

/** How a command reaches a zipper: the flags `geoflux run`, `sim` and `replay` share. */
export const connectionFlags = (dflt?: string): Record<string, FlagSpec> => ({
  zipper: { type: 'string', short: 'z', value: 'url', help: 'the zipper to connect to (quic://, webtransport://)', ...(dflt ? { default: dflt } : {}) },
  token: { type: 'string', value: 'token', help: 'auth token (default: $GEOFLUX_TOKEN, else dev-token, as the demo workflows default to)' },
  ca: { type: 'string', value: 'file', help: "PEM file of the CA that signed the zipper's certificate" },
  'cert-hash': { type: 'string', value: 'sha256', help: "pin the zipper's certificate by the SHA-256 `geoflux serve` prints" },
  insecure: { type: 'boolean', help: 'accept any certificate (a dev zipper with a self-signed one)' },
  cert: { type: 'string', value: 'file', help: 'PEM client certificate, for a zipper that requires one (auth.clientCa)' },
  key: { type: 'string', value: 'file', help: 'PEM private key of --cert' },
});

/** Where `geoflux sim` and `geoflux replay` send fixes: a zipper, a file or stdout, or both. */
export const fixOutputFlags: Record<string, FlagSpec> = {
  out: { type: 'string', short: 'o', value: 'file', help: 'write fixes to a file (.csv or JSON lines), - for stdout' },
  format: { type: 'string', value: 'csv|jsonl', help: 'format of --out (default: by extension; stdout: jsonl)' },
  tag: { type: 'string', value: 'tag', help: 'tag the fixes are written under, with --zipper', default: 'gps' },
  'ack-timeout': { type: 'string', value: 'ms', help: 'at the end, how long to wait for the zipper to acknowledge what was sent (exit 1 if it does not)', default: '10000' },
  ...connectionFlags(),
};

/** what an operator running serve or worker under a service manager needs: its signals, exit codes and environment */
const serviceNotes = (cleanStop: string): string[] => [
  '',
  'Signals and exit codes:',
  `  SIGINT (Ctrl-C) or SIGTERM  a clean stop: ${cleanStop}, then exit 0`,
  '  a second one                stops at once, saying what that cut short: exit 130 (SIGINT) or 143 (SIGTERM)',
  '  exit 1                      it could not start or failed (the reason on stderr); exit 2: a usage error',
  '',
  'Environment:',
  '  GEOFLUX_LOG                 the log level when --log-level is not given (debug, info, warn, error, silent)',
];

export const serveSpec: CommandSpec = {
  name: 'serve',
  takes: { most: 1, what: 'one workflow file' },
  usage: 'geoflux serve [workflow.yaml] [options]',
  summary:
    'Starts the zipper for a workflow: listens on every address in `listen:`, routes tags to the functions,\nruns the `host: local` functions and the `sources:` in this process, and logs what flows.',
  flags: {
    'stats-every': { type: 'string', value: 'seconds', help: 'log a traffic summary this often, 0 for never', default: '10' },
    'drain-timeout': { type: 'string', value: 'ms', help: 'on Ctrl-C or SIGTERM, how long to wait for functions to finish what they hold', default: '5000' },
    as: { type: 'string', value: 'protocol', help: "the simulators (builtin:traffic sources) send their fixes as devices do, through the workflow's listener: osmand (Traccar Client over HTTP; a listener on 5055 is added when there is none)" },
  },
  notes: [
    'Examples:',
    '  geoflux serve                      # ./workflow.yaml',
    '  GEOFLUX_TOKEN=s3cret geoflux serve workflows/examples/remote-sfn.yaml',
    '  geoflux serve --as osmand          # the demo\'s vehicles as Traccar Client phones (npm start -- --as osmand)',
    ...serviceNotes('the functions finish what they hold (up to --drain-timeout)'),
    '  NODE_OPTIONS                Node\'s own flags: --v8-pool-size=1 runs one V8 helper thread instead of four; npm start does, with',
    '                              node --optimize-for-size (not taken by NODE_OPTIONS) and MALLOC_MMAP_THRESHOLD_=65536',
    '                              MALLOC_TRIM_THRESHOLD_=131072 (glibc returns freed memory): less memory, more CPU (docs/serverless.md)',
    '',
    'Memory: `hosts: N` in the workflow sets the threads that kernel and builtin instances share (default: the cores).',
    '',
    'State folder (`state:` in the workflow, default .geoflux/ beside it): serve.lock, the TLS certificate and key,',
    'deployments.json and kernels/ (deployed functions), functions/<name>.state (kernel state saved at a clean stop),',
    'sink-ids.json (ids of events lately published, so a restart does not publish them again). Written at a deploy,',
    'replace or undeploy and at a clean stop, not as fixes flow; a write cut short is removed at the next start.',
  ],
};

export const workerSpec: CommandSpec = {
  name: 'worker',
  takes: { most: 1, what: 'one workflow file' },
  usage: 'geoflux worker [workflow.yaml] [options]',
  summary:
    "Runs a workflow's `where: cloud` functions on a share of the partitions of its cluster's JetStream stream\n(`cluster:`), as many workers as you start: they share the partitions by leases, hand them over when one\njoins, take a dead one's over after a few seconds, and carry each partition's device state with it.",
  flags: {
    name: { type: 'string', value: 'name', help: 'this worker\'s name, unique among the live ones (default: host, pid and a random suffix)' },
    'checkpoint-every': { type: 'string', value: 'ms', help: 'how often a partition\'s state is checkpointed while it is read: what a takeover replays (ms, or 5s, 500ms)', default: '5000' },
    metrics: { type: 'string', value: '[host:]port', help: 'serve Prometheus metrics here (partitions held, lag, checkpoints, sinks); 0 for any free port' },
  },
  notes: [
    'Example (after `nats-server -js -sd /tmp/geoflux-nats` and `geoflux serve workflows/examples/cluster.yaml`):',
    '  geoflux worker workflows/examples/cluster.yaml',
    ...serviceNotes('hands its partitions over to the other workers'),
  ],
};

export const runSpec: CommandSpec = {
  name: 'run',
  takes: { most: 1, what: 'one module' },
  usage: 'geoflux run <my-sfn.ts> [options]',
  summary:
    'Runs a stream function module as its own process, connected to a zipper. The module exports a default\nfunction (in$, ctx) => Observable, and may export name, observe, emit and init; flags override them.',
  flags: {
    name: { type: 'string', short: 'n', value: 'name', help: 'function name, as in the workflow (default: the module\'s `name`)' },
    observe: { type: 'string', value: 'tags', help: 'comma-separated tags to observe (default: the module\'s `observe`)' },
    emit: { type: 'string', value: 'tag', help: 'tag to write outputs to (default: the module\'s `emit`)' },
    params: { type: 'string', value: 'json', help: 'JSON object handed to the module as ctx.params' },
    ...connectionFlags('quic://127.0.0.1:9000'),
  },
  notes: ['Example:', '  geoflux run workflows/examples/speeding.ts --zipper quic://127.0.0.1:9000 --cert-hash 3f2a…'],
};

export const fenceSpec: CommandSpec = {
  name: 'fence',
  takes: { most: 1, what: 'one trace' },
  usage: 'geoflux fence --fences <file.geojson> [options] <trace | ->',
  summary: 'Runs a trace through the geofence kernel, without the streaming stack, and prints events as JSON lines.',
  flags: {
    fences: { type: 'string', value: 'file', help: 'GeoJSON fences: Polygon, MultiPolygon, or Point with properties.radius (m)' },
    detect: { type: 'string', value: 'list', help: `events to report: ${DETECTS.join(',')}`, default: 'enter,exit,cross,dwell' },
    dwell: { type: 'string', value: 'seconds', help: 'time inside a fence before dwell fires', default: '300' },
    contains: { type: 'boolean', help: 'instead of events, one line per fix with the ids of the fences containing it' },
    raw: { type: 'boolean', help: 'an enter or exit at every change of side, as the fixes fall (debounce: false); default: debounced' },
    hysteresis: { type: 'string', value: 'metres', help: 'debounced: a fix counts for the new side only by how far past the boundary beyond this it is (kernel default: 3)' },
    evidence: { type: 'string', value: 'metres', help: 'debounced: what the fixes since a change must add up to past the hysteresis (kernel default: 20)' },
    confirm: { type: 'string', value: 'seconds', help: 'debounced: how long the new side must also have held (kernel default: 9)' },
    'confirm-run': { type: 'boolean', help: 'debounced: the wait counts the run of fixes on the new side, a fix back across starting it again (confirmRun: true, for map-matched positions with --hysteresis 0; kernel default: from the first fix on the new side)' },
    'at-first-fix': { type: 'boolean', help: 'debounced: date an enter or exit at the first fix on the new side (crossing: false; kernel default: where the line from the last fix before it crosses the boundary)' },
    wasi: { type: 'string', value: 'node|wasmer', help: 'WASI implementation', default: 'node' },
  },
  notes: ['Example:', '  geoflux fence --fences ../shared/data/fences/seattle-neighborhoods.geojson ../shared/data/traces/seattle-newson-krumm-gps.txt'],
};

export const kernelSpec: CommandSpec = {
  name: 'kernel',
  takes: { most: 2, what: 'a kernel and a trace' },
  usage: `geoflux kernel <file.wasm | ${BUILTIN_KERNELS.join(' | ')}> [--params JSON] <trace | ->\n       geoflux kernel <file.wasm> --describe\n       geoflux kernel <file.wasm> --check [--params JSON] [trace]`,
  summary:
    'Runs any kernel over a trace in batch, without the streaming stack, and prints its output rows as JSON lines\n(decoded by the fields it declares); --describe prints what it declares, --check runs the ABI conformance suite.',
  flags: {
    params: { type: 'string', value: 'json', help: "the kernel's params, a JSON object (files they name are relative to here)" },
    describe: { type: 'boolean', help: "print the kernel's params, output rows and counters, as it declares them (it takes no trace, nor --params: --check checks params against them)" },
    check: { type: 'boolean', help: 'run the conformance suite (docs/kernel-abi.md) over the trace, or three synthetic vehicles' },
    wasi: { type: 'string', value: 'node|wasmer', help: 'WASI implementation', default: 'node' },
    timeout: { type: 'string', value: 'ms', help: 'how long one kernel call (with --check: the whole suite) may take before the kernel is stopped and the command fails', default: '30000' },
  },
  notes: [
    'The kernel runs in a thread of its own: one that loops is stopped after --timeout, said, and the command exits 1.',
    'A row the kernel traps on costs only itself, as in serve: the batch is split down to it, it is dropped, and the count and the first',
    '(device, time, trap) are said at the end; every row trapping fails the command (exit 1).',
    'A trace is CSV, JSON lines, GPX, or one of the formats in ../shared/data (by its header); - reads standard input.',
    'Progress goes to stderr, with the rows dropped as unfit for a kernel (by reason) and the kernel\'s counters at the end.',
    'Examples:',
    '  geoflux kernel examples/kernels/c/speeding.wasm --describe',
    '  geoflux kernel examples/kernels/c/speeding.wasm --params \'{"limit": 50, "unit": "km/h"}\' fixes.csv',
    '  geoflux kernel geofence --params \'{"fences": "quarters.geojson"}\' - < fixes.jsonl',
    '  geoflux kernel my-kernel.wasm --check --params \'{"radius": 30}\'',
  ],
};

export const hotspotSpec: CommandSpec = {
  name: 'hotspot',
  takes: { most: 1, what: 'one trace' },
  usage: 'geoflux hotspot --cell <m> --band <m> [options] <trace | ->',
  summary: 'Runs a trace through the hotspot kernel (Getis-Ord Gi* over a sliding window) and prints hot and cooled cells as JSON lines.',
  flags: {
    cell: { type: 'string', value: 'metres', help: 'grid cell size', default: '250' },
    band: { type: 'string', value: 'metres', help: 'neighbourhood: cells within this distance (square band)', default: '250' },
    window: { type: 'string', value: 'seconds', help: 'sliding window length', default: '300' },
    slide: { type: 'string', value: 'seconds', help: 'how often the window is scored', default: '60' },
    z: { type: 'string', value: 'score', help: 'z-score at or above which a cell is hot', default: '2.58' },
    'min-count': { type: 'string', value: 'n', help: 'fixes a cell needs in the window to be hot', default: '5' },
    weight: { type: 'string', value: 'count|speed', help: 'what a fix adds to its cell', default: 'count' },
    grid: { type: 'string', value: 'cells', help: 'grid width and height, centred on the first fix', default: '256' },
  },
  notes: ['Example:', '  geoflux hotspot --cell 200 --band 400 --window 600 ../shared/data/traces/liverpool-bus-route14-outbound.csv'],
};

export const networkSpec: CommandSpec = {
  name: 'network',
  takes: { most: 2, what: 'a subcommand (info or areas) and one file' },
  usage: 'geoflux network info <osm.pbf | kubicka-dir>\n       geoflux network areas <osm.pbf> [--admin-level 10]',
  summary:
    'Reads road networks. info: imports a road network (OSM PBF, or the Kubička benchmark format) and prints what it holds.\nareas: prints the administrative boundaries of an OSM PBF as GeoJSON, ready to use as geofences.',
  flags: {
    json: { type: 'boolean', help: 'info: print the summary as JSON' },
    'admin-level': { type: 'string', value: 'n', help: 'areas: the admin_level of the boundaries', default: '10' },
  },
  notes: ['Examples:', '  geoflux network info ../shared/data/osm/monaco.osm.pbf', '  geoflux network areas ../shared/data/osm/monaco.osm.pbf > monaco-quarters.geojson'],
};

export const matchSpec: CommandSpec = {
  name: 'match',
  takes: { most: 1, what: 'one trace' },
  usage: 'geoflux match --network <osm.pbf | kubicka-dir> [options] <trace | ->',
  summary: 'Map-matches a trace with the HMM kernel, without the streaming stack, and prints matched fixes as JSON lines.',
  flags: {
    network: { type: 'string', value: 'file', help: 'road network: an OSM PBF, or a Kubička benchmark prefix or directory' },
    sigma: { type: 'string', value: 'metres', help: "GPS noise σ (default: each fix's accuracy, else 8)" },
    radius: { type: 'string', value: 'metres', help: 'candidate search radius (default 50)' },
    k: { type: 'string', value: 'n', help: 'most candidates per fix (default 16)' },
    beta: { type: 'string', value: 'metres', help: "the vehicle's own variation in the transition, per second between fixes (default 3)" },
    lag: { type: 'string', value: 'fixes', help: 'most fixes held while the best path converges (default 30)' },
    'heading-sigma': { type: 'string', value: 'degrees', help: "σ of a fix's heading against the road; 0 ignores headings (default 30)" },
    'heading-speed': { type: 'string', value: 'm/s', help: 'headings of slower fixes are ignored (default 1)' },
    'stop-speed': { type: 'string', value: 'm/s', help: 'a fix reporting a slower speed is stationary (default 0.5)' },
    stationary: { type: 'string', value: 'metres', help: 'a fix without speed this close to the last one is stationary (default 2σ)' },
    'u-turn': { type: 'string', value: 'log-lik.', help: 'what a path pays for turning back on itself (default 10)' },
    'max-speed': { type: 'string', value: 'm/s', help: 'no vehicle is faster: longer routes in the time are no link (default 60)' },
    beam: { type: 'string', value: 'log-lik.', help: 'paths this far behind the best are dropped (default 15)' },
    route: { type: 'boolean', help: 'end with one line {"route": [edge ids driven, in order], "ways": [OSM way ids]}' },
    traversals: { type: 'boolean', help: 'also print a line per edge driven (enter/exit time, mean speed)' },
  },
  notes: [
    'Each line: {kind:"mapmatch", detect:"matched"|"unmatched", deviceId, time, point (on the road), raw, edge, wayId, offset, speed}; restart: true where the match broke just before (a gap, or no route).',
    'Model and params: docs/map-matching.md.',
    'Examples:',
    '  geoflux match --network ../shared/data/mapmatch-kubicka --route ../shared/data/mapmatch-kubicka/00000000.track',
    '  geoflux sim --network monaco.osm.pbf --vehicles 5 --out - | geoflux match --network monaco.osm.pbf -',
  ],
};

export const simSpec: CommandSpec = {
  name: 'sim',
  usage: 'geoflux sim [options] (--zipper <url> | --out <file | ->)',
  summary:
    'Simulates a fleet driving the road network (quickest paths between random destinations, speeds by road\nclass, slowing at junctions and incidents) with a GPS error model, and streams the fixes to a zipper or a file.',
  flags: {
    vehicles: { type: 'string', value: 'n', help: 'vehicles in the default fleet (default: 500, or a --scenario\'s fleets)' },
    prefix: { type: 'string', value: 'text', help: 'device ids of the default fleet: <text>-001 … (default veh, as the demo\'s builtin:traffic: give another when both feed one zipper, or their vehicles merge); without --seed, the prefix picks the seed' },
    network: { type: 'string', value: 'file', help: 'road network, an OSM PBF (required, unless the --scenario names one)' },
    scenario: { type: 'string', value: 'file', help: 'a scenario YAML: fleets, incidents, network, seed, start, duration' },
    seed: { type: 'string', value: 'n', help: 'same seed and --start, same fixes (default: the --scenario\'s seed, else 1)' },
    start: { type: 'string', value: 'time', help: 'simulated start time, ISO 8601 (default: now)' },
    duration: { type: 'string', value: 'seconds', help: 'simulated seconds to run (default: until Ctrl-C with --zipper, else 600)' },
    speed: { type: 'string', value: 'Nx', help: 'simulated seconds per real second, e.g. 10x (default: 1x with --zipper, else as fast as possible)' },
    'as-fast-as-possible': { type: 'boolean', help: 'no pacing: as many steps as the CPU (and the zipper) take' },
    noise: { type: 'string', value: 'metres', help: 'GPS noise σ on each axis', default: '5' },
    interval: { type: 'string', value: 'seconds', help: 'seconds between fixes', default: '1' },
    outliers: { type: 'string', value: 'rate', help: 'share of fixes thrown 100-200 m off', default: '0.002' },
    dropouts: { type: 'string', value: 'rate', help: 'chance per fix that a 5-30 s gap starts', default: '0.002' },
    incident: { type: 'string', multiple: true, value: 'spec', help: '"lon,lat,radius_m,start,duration,slowdown": slow vehicles in a circle (repeatable)' },
    truth: { type: 'string', value: 'file', help: 'write the true edge and position of every fix as JSON lines' },
    ...fixOutputFlags,
  },
  notes: [
    'Incidents: slowdown is the share of speed lost (0.8: a fifth of the usual speed); start and duration are',
    'simulated seconds from the start. A progress line (simulated time, vehicles, fixes/s) goes to stderr.',
    'Examples:',
    '  geoflux sim --network monaco.osm.pbf --vehicles 2000 --prefix sim --speed 10x --zipper quic://127.0.0.1:9000 --insecure',
    '  geoflux sim --network monaco.osm.pbf --vehicles 20 --duration 300 --noise 10 --out fixes.csv --truth truth.jsonl',
    '  geoflux sim --network monaco.osm.pbf --incident "7.4236,43.7376,150,60,1800,0.8" --out - | geoflux match --network monaco.osm.pbf -',
  ],
};

export const replaySpec: CommandSpec = {
  name: 'replay',
  takes: { most: Infinity, what: 'any number of traces' },
  usage: 'geoflux replay <files... | -> [options] (--zipper <url> | --out <file | ->)',
  summary:
    'Replays recorded GPS traces with their recorded timing, or faster: Newson & Krumm, Kubička .track, GeoLife,\nGPX, JSON lines (as geoflux sim writes them), and CSV with lon/lat/time columns named in its header; - reads\nstandard input. Each file is a device unless it names its own.',
  flags: {
    speed: { type: 'string', value: 'Nx', help: 'recorded seconds per real second, e.g. 10x, or max', default: '1x' },
    loop: { type: 'boolean', help: 'start over at the end (times move on, so clocks keep going forward)' },
    ...fixOutputFlags,
  },
  notes: [
    'Rows that cannot be read, and fixes a zipper would refuse (a latitude past 90, a speed past 1,000 knots), are\ncounted and reported per file, and skipped.',
    'Examples:',
    '  geoflux replay ../shared/data/traces/*.csv --speed 20x --zipper quic://127.0.0.1:9000 --insecure',
    '  geoflux replay --speed max --out - ../shared/data/traces/seattle-newson-krumm-gps.txt | geoflux fence --fences … -',
  ],
};

export const alertsSpec: CommandSpec = {
  name: 'alerts',
  usage: 'geoflux alerts [options]',
  summary: 'Subscribes to the alerts a workflow publishes over MQTT and prints them as readable lines (or JSON) as they arrive.',
  flags: {
    mqtt: { type: 'string', value: 'url', help: "the broker (serve's banner names its own: watch: geoflux alerts --mqtt …)", default: 'mqtt://127.0.0.1:1883', triedAs: ['url', 'broker'] },
    topic: { type: 'string', value: 'filter', help: 'topic filter', default: 'geoflux/alerts/#' },
    kind: { type: 'string', multiple: true, value: 'kind', help: `only these kinds: ${BUILTIN_KERNELS.join(', ')}, or your own kernel's (repeatable, or a comma list)` },
    json: { type: 'boolean', help: 'print each alert as its JSON' },
    count: { type: 'string', value: 'n', help: 'exit after n alerts' },
    protocol: { type: 'string', value: '3.1.1|5', help: 'MQTT version', default: '3.1.1' },
    username: { type: 'string', value: 'name', help: 'broker user' },
    password: { type: 'string', value: 'secret', help: 'broker password (default: $GEOFLUX_MQTT_PASSWORD)' },
  },
  notes: [
    'Lines: time, kind and detect, device (or hotspot cell), what (fence, z score, road and speed), lon,lat.',
    'Examples:',
    '  geoflux alerts                                   # everything the default workflow publishes',
    "  geoflux alerts --kind geofence --topic 'geoflux/alerts/geofence/enter/#'",
    '  geoflux alerts --json --count 10 | jq .',
  ],
};

export const statusSpec: CommandSpec = {
  name: 'status',
  usage: 'geoflux status [--metrics <url>] [options]',
  summary: 'Sums up a running geoflux serve from its Prometheus metrics: connections, records in per tag, each\nfunction\'s instances, backlog and restarts, the MQTT sinks, and what was dropped or refused.',
  flags: {
    metrics: { type: 'string', value: 'url', help: 'the serve\'s metrics endpoint (its banner prints it; a port or host:port will do)', default: 'http://127.0.0.1:9464/metrics', triedAs: ['url'] },
    interval: { type: 'string', value: 'seconds', help: 'time between the two scrapes rates are taken from (sources writing a batch a second need a few)', default: '3' },
    cluster: { type: 'string', value: 'workflow.yaml', help: 'also the cluster of this workflow, from NATS: edges, workers, who holds which partition, its lag and last checkpoint' },
  },
  notes: ['The workflow needs metrics: { port: 9464 } (the default workflow.yaml has it).', 'Examples:', '  geoflux status', '  geoflux status --cluster workflows/examples/cluster.yaml'],
};

/** How `geoflux deploy`, `functions`, `undeploy` and `logs` reach a running serve: its zipper, with the control token. */
const controlFlags: Record<string, FlagSpec> = {
  ...connectionFlags('quic://127.0.0.1:9000'),
  token: { type: 'string', value: 'token', help: "the workflow's control.token (default: $GEOFLUX_CONTROL_TOKEN, else dev-control-token, as the demo workflow defaults to)" },
};
const controlNote = 'Needs a workflow with control: { token: … } (the default workflow.yaml has one); docs/serverless.md.';

export const deploySpec: CommandSpec = {
  name: 'deploy',
  takes: { most: 1, what: 'one kernel' },
  usage: 'geoflux deploy <kernel.wasm> --name <fn> --observe <tag> [--emit <tag>] [options]',
  summary:
    'Deploys a kernel to a running geoflux serve as a new function, over the zipper\'s control channel: the zipper\nchecks the module (its hash, the ABI conformance suite with --params) before anything running changes, starts\nit, and keeps it in the workflow\'s state folder, pinned by hash, for its next start. Exits 0 once it runs.\nUnder a running deployment\'s name, another module, params or tags replace it without loss: the new version\nstarts, takes the old one\'s per-device state at a frame boundary (frames arriving meanwhile are held), and the\nold one is closed; a new version that cannot take that state is refused, unless --fresh-state.',
  flags: {
    name: { type: 'string', short: 'n', value: 'fn', help: 'the new function\'s name: a letter, then letters, digits, "-" and "_", at most 100 (its state is saved to a file of that name)' },
    observe: { type: 'string', value: 'tags', help: 'comma-separated tags it observes (tags the workflow declares, each once)' },
    emit: { type: 'string', value: 'tags', help: 'comma-separated tags it emits its rows on (tags the workflow declares, each once)' },
    params: { type: 'string', value: 'json', help: 'the kernel\'s params, a JSON object (files it names are relative to the workflow)' },
    min: { type: 'string', value: 'n', help: 'the fewest instances it runs (partitioned by deviceId); 0: one, scaled to zero after --idle seconds without a frame and started again, its state restored, by the next', default: '1' },
    idle: { type: 'string', value: 's', help: 'with --min 0: seconds without a frame before it is scaled to zero (default 60)' },
    max: { type: 'string', value: 'n', help: 'the most instances it may have, at most 1024 (as a workflow\'s instances:): above --min, one more while its backlog stays over 64 frames an instance for 2 s, one fewer after 30 s without backlog, devices\' state moved (the workflow\'s control.autoscale changes these)', default: '1' },
    'fresh-state': { type: 'boolean', help: 'replacing a running version whose state the new one cannot take: start it empty instead of refusing' },
    where: { type: 'string', value: 'edge|cloud', help: "cloud: on the workers of the serve's cluster (its workflow's cluster: section) rather than on the serve: the module goes to JetStream's object store and every worker runs it, one that starts later too; it observes tags the edge hands to the cluster", default: 'edge' },
    ...controlFlags,
  },
  notes: [
    controlNote,
    'With --where cloud (a workflow with a cluster: section) --min, --max and --idle do not apply: each worker runs it once, over the partitions it holds.',
    'Examples:',
    `  geoflux deploy examples/kernels/c/speeding.wasm --name speeding --observe gps --emit speeding --params '{"limit": 13}' --insecure`,
    `  geoflux deploy examples/kernels/c/speeding.wasm --where cloud --name speeding --observe gps --emit fences --params '{"limit": 13}' --insecure`,
  ],
};

export const functionsSpec: CommandSpec = {
  name: 'functions',
  usage: 'geoflux functions [options]',
  summary: 'Lists the functions of a running geoflux serve: name, where it came from (the workflow or a deploy),\nthe kernel\'s hash, what it observes and emits, and its instances connected now; where the workflow has a\ncluster, also its cloud functions and those deployed --where cloud, each with the live workers running it.',
  flags: controlFlags,
  notes: [controlNote, 'Example:', '  geoflux functions --insecure'],
};

export const undeploySpec: CommandSpec = {
  name: 'undeploy',
  takes: { most: 1, what: 'one function' },
  usage: 'geoflux undeploy <fn> [options]',
  summary: 'Stops a deployed function of a running geoflux serve (its instances finish what they hold) and forgets it,\nso the next start does not bring it back; one deployed --where cloud is removed from every worker of the cluster.',
  flags: controlFlags,
  notes: [controlNote, 'Example:', '  geoflux undeploy speeding --insecure'],
};

export const logsSpec: CommandSpec = {
  name: 'logs',
  takes: { most: 1, what: 'one function' },
  usage: 'geoflux logs <fn> [--follow] [options]',
  summary:
    "Prints the recent log lines of a function of a running geoflux serve (the workflow's or a deployed one): serve\nkeeps the last 200 of each, from its threads and its own lines about it (log lines only: what a function\nprints to stdout is not kept). --follow keeps printing new ones, across a restart of serve.",
  flags: {
    follow: { type: 'boolean', short: 'f', help: 'keep printing the lines as they come, until Ctrl-C' },
    ...controlFlags,
  },
  notes: [controlNote, "A where: cloud function runs on the cluster's workers: its lines are in their logs.", 'Example:', '  geoflux logs speeding --follow --insecure'],
};

export const querySpec: CommandSpec = {
  name: 'query',
  takes: { most: 1, what: 'one question: nearby, within or intersects' },
  usage: 'geoflux query nearby --lon <lon> --lat <lat> [-k 5] [--radius m] [--where status:free]\n       geoflux query within --bbox <west,south,east,north> | --geojson <file|->\n       geoflux query intersects --geojson <file|->',
  summary:
    "Asks a running geoflux serve about its fleet (the workflow's builtin:fleet function, over the dashboard's\nHTTP API, docs/query.md): the k nearest vehicles, those in a box or polygon, those on a geometry. Prints\none JSON line per vehicle, nearest first (with its distance in metres) or by deviceId.",
  flags: {
    lon: { type: 'string', value: 'degrees', help: 'nearby: longitude of the point' },
    lat: { type: 'string', value: 'degrees', help: 'nearby: latitude of the point' },
    k: { type: 'string', short: 'k', value: 'n', help: 'nearby: how many', default: '5' },
    radius: { type: 'string', value: 'metres', help: 'nearby: no farther than this (default: any distance)' },
    bbox: { type: 'string', value: 'w,s,e,n', help: 'within: the box, in degrees' },
    geojson: { type: 'string', value: 'file', help: 'within / intersects: a GeoJSON geometry or Feature, - for standard input' },
    where: { type: 'string', value: 'field:value,...', help: 'only vehicles whose user fields are these (e.g. status:free)' },
    url: { type: 'string', value: 'url', help: "the workflow's dashboard (serve's banner prints it)", default: 'http://127.0.0.1:8080' },
  },
  notes: [
    'The workflow needs dashboard: { port } and a function { name: fleet, observe: [gps], host: local, run: builtin:fleet }.',
    'Examples (while npm start runs):',
    '  geoflux query nearby --lon 7.4267 --lat 43.7396 -k 5 --radius 1000',
    '  geoflux query within --bbox 7.42,43.735,7.43,43.745',
  ],
};
