import { describe, expect, it } from 'vitest';
import { parseWorkflow } from './load.ts';
import { goodWorkflows } from './testdata/good-workflows.ts';

/**
 * What the loader says of each malformed shape, and what it makes of each good one, message for message:
 * recorded while zod checked the shape (issue #23), kept so that the hand-written checks are held to it; since
 * then only two wordings changed on purpose: a field of several forms names its own forms (a wrong `metrics:`
 * said "expected a tag name or a list of tag names"), and a value that must be above 0 says so ("must be at
 * least 0" refused 0).
 * A row is the YAML and either the exact message or, for a file that loads, the fields it names as loaded.
 */

const BASE = 'name: c\nlisten: [quic://127.0.0.1:9000]\ntags: { gps: 16 }\n';
const ENV = { PORT: '9464' };
const REPO = process.cwd();

type Expected = string | Record<string, unknown>;

/** appended to BASE */
const appended: [yaml: string, expected: Expected][] = [
  ["hosts: 0", "c.yaml:4:8 hosts: must be at least 1"],
  ["hosts: 300", "c.yaml:4:8 hosts: must be at most 256"],
  ["hosts: 1.5", "c.yaml:4:8 hosts: expected a whole number, got number 1.5"],
  // a number written as text (what `${HOSTS}` substitutes) is taken as the number
  ["hosts: \"4\"", {"hosts":4}],
  ["hosts: \"four\"", "c.yaml:4:8 hosts: expected a number, got string \"four\""],
  ["hosts: .nan", "c.yaml:4:8 hosts: expected a number, got NaN"],
  ["hosts: .inf", "c.yaml:4:8 hosts: expected a number, got Infinity"],
  ["hosts: 4", {"hosts":4}],
  ["zzzz: 1", "c.yaml:4:1 zzzz: unknown field"],
  ["nme: c2", "c.yaml:4:1 nme: unknown field (did you mean \"name\"?)"],
  ["limits: { anything: [1, 2] }", {"limits":{"anything":[1,2]}}],
  ["tls: x", "c.yaml:4:6 tls: expected a map, got string \"x\""],
  ["tls: { cert: \"\" , key: k.pem }", "c.yaml:4:14 tls.cert: must not be empty"],
  ["tls: { cert: c.pem }", "c.yaml:4:6 tls.key: required field is missing"],
  ["tls: { cert: c.pem, key: k.pem, extra: 1 }", "c.yaml:4:33 tls.extra: unknown field"],
  ["tls: ~", "c.yaml:4:6 tls: expected a map, got nothing"],
  ["auth: { token: 5 }", "c.yaml:4:16 auth.token: expected a string, got number 5"],
  ["auth: { clientCa: \"\" }", "c.yaml:4:19 auth.clientCa: must not be empty"],
  ["auth: { tokn: x }", "c.yaml:4:9 auth.tokn: unknown field (did you mean \"token\"?)"],
  ["auth: ~", "c.yaml:4:7 auth: expected a map, got nothing"],
  ["control: {}", "c.yaml:4:10 control.token: required field is missing"],
  ["control: { token: \"\" }", "c.yaml:4:19 control.token: the control channel needs a token of its own"],
  ["control: { token: t, autoscale: { backlog: 1.5 } }", "c.yaml:4:44 control.autoscale.backlog: expected a whole number, got number 1.5"],
  ["control: { token: t, autoscale: { up: -1 } }", "c.yaml:4:39 control.autoscale.up: must be more than 0"],
  ["control: { token: t, autoscale: { idle: x } }", "c.yaml:4:41 control.autoscale.idle: expected a number, got string \"x\""],
  ["control: { token: t, autoscale: { bcklog: 2 } }", "c.yaml:4:35 control.autoscale.bcklog: unknown field (did you mean \"backlog\"?)"],
  ["control: { token: t, autoscale: { backlog: 2, up: 0.5 } }", {"control":{"token":"t","autoscale":{"backlog":2,"up":0.5}}}],
  ["state: \"\"", "c.yaml:4:8 state: must not be empty"],
  ["state: 5", "c.yaml:4:8 state: expected a string, got number 5"],
  ["state: s", {"stateDir":"<repo>/s"}],
  ["metrics: false", {}],
  ["metrics: true", "c.yaml:4:10 metrics: expected false or { host, port } with a port 0–65535"],
  ["metrics: {}", "c.yaml:4:10 metrics.port: required field is missing"],
  ["metrics: { host: x }", "c.yaml:4:10 metrics.port: required field is missing"],
  ["metrics: { port: \"${PORT}\" }", {"metrics":{"host":"127.0.0.1","port":9464}}],
  ["metrics: { port: abc }", "c.yaml:4:18 metrics.port: expected a number, got string \"abc\""],
  ["metrics: { port: 70000 }", "c.yaml:4:18 metrics.port: must be at most 65535"],
  ["metrics: { port: -1 }", "c.yaml:4:18 metrics.port: must be at least 0"],
  ["metrics: { port: 1.5 }", "c.yaml:4:18 metrics.port: expected a whole number, got number 1.5"],
  ["metrics: { host: \"\", port: 1 }", "c.yaml:4:18 metrics.host: must not be empty"],
  ["metrics: { prt: 1 }", "c.yaml:4:12 metrics.prt: unknown field (did you mean \"port\"?)"],
  ["metrics: x", "c.yaml:4:10 metrics: expected false or { host, port } with a port 0–65535"],
  ["metrics: { host: 0.0.0.0, port: 9464 }", {"metrics":{"host":"0.0.0.0","port":9464}}],
  ["functions: {}", "c.yaml:4:12 functions: expected a list, got a map"],
  ["functions: [5]", "c.yaml:4:13 functions[0]: expected a map, got number 5"],
  ["functions: ~", "c.yaml:4:12 functions: expected a list, got nothing"],
  ["functions: []", {"functions":[]}],
  ["functions: [{ name: \"Bad name!\", observe: gps }]", "c.yaml:4:21 functions[0].name: must start with a letter and use only letters, digits, \"-\" and \"_\""],
  ["functions: [{ name: 1abc, observe: gps }]", "c.yaml:4:21 functions[0].name: must start with a letter and use only letters, digits, \"-\" and \"_\""],
  ["functions: [{ observe: gps }]", "c.yaml:4:13 functions[0].name: required field is missing"],
  ["functions: [{ name: f }]", "c.yaml:4:13 functions[0].observe: required field is missing"],
  ["functions: [{ name: f, observe: 5 }]", "c.yaml:4:33 functions[0].observe: expected a tag name or a list of tag names"],
  ["functions: [{ name: f, observe: [5] }]", "c.yaml:4:33 functions[0].observe: expected a tag name or a list of tag names"],
  ["functions: [{ name: f, observe: [] }]", "c.yaml:4:24 functions[0].observe: must name at least one tag"],
  ["functions: [{ name: f, observe: gps, emit: 5 }]", "c.yaml:4:44 functions[0].emit: expected a tag name or a list of tag names"],
  ["functions: [{ name: f, observe: gps, dispatch: balance }]", {"functions":[{"name":"f","observe":["gps"],"dispatch":{"kind":"balance"},"emit":[],"instances":1,"host":"remote","where":"edge"}]}],
  ["functions: [{ name: f, observe: gps, dispatch: random }]", "c.yaml:4:48 functions[0].dispatch: expected \"balance\" or { partition: <metadata key> }"],
  ["functions: [{ name: f, observe: gps, dispatch: { partition: \"\" } }]", "c.yaml:4:61 functions[0].dispatch.partition: must not be empty"],
  ["functions: [{ name: f, observe: gps, dispatch: { partition: 5 } }]", "c.yaml:4:61 functions[0].dispatch.partition: expected a string, got number 5"],
  ["functions: [{ name: f, observe: gps, dispatch: { partition: x, more: 1 } }]", "c.yaml:4:64 functions[0].dispatch.more: unknown field"],
  ["functions: [{ name: f, observe: gps, dispatch: {} }]", "c.yaml:4:48 functions[0].dispatch.partition: required field is missing"],
  ["functions: [{ name: f, observe: gps, dispatch: { partiton: deviceId } }]", "c.yaml:4:50 functions[0].dispatch.partiton: unknown field (did you mean \"partition\"?)"],
  ["functions: [{ name: f, observe: gps, dispatch: ~ }]", "c.yaml:4:48 functions[0].dispatch: expected \"balance\" or { partition: <metadata key> }"],
  ["functions: [{ name: f, observe: gps, dispatch: { partition: region } }]", {"functions":[{"name":"f","observe":["gps"],"dispatch":{"kind":"partition","key":"region"},"emit":[],"instances":1,"host":"remote","where":"edge"}]}],
  ["functions: [{ name: f, observe: gps, instances: 0 }]", "c.yaml:4:49 functions[0].instances: must be at least 1"],
  ["functions: [{ name: f, observe: gps, instances: 2000 }]", "c.yaml:4:49 functions[0].instances: must be at most 1024"],
  ["functions: [{ name: f, observe: gps, instances: 1.5 }]", "c.yaml:4:49 functions[0].instances: expected a whole number, got number 1.5"],
  ["functions: [{ name: f, observe: gps, instances: \"2\" }]", {"functions":[{"name":"f","observe":["gps"],"instances":2,"emit":[],"dispatch":{"kind":"balance"},"host":"remote","where":"edge"}]}],
  ["functions: [{ name: f, observe: gps, host: cloud }]", "c.yaml:4:44 functions[0].host: expected one of \"local\", \"remote\", got string \"cloud\""],
  ["functions: [{ name: f, observe: gps, host: 5 }]", "c.yaml:4:44 functions[0].host: expected one of \"local\", \"remote\", got number 5"],
  ["functions: [{ name: f, observe: gps, run: \"\" }]", "c.yaml:4:43 functions[0].run: must not be empty"],
  ["functions: [{ name: f, observe: gps, kernel: \"\" }]", "c.yaml:4:46 functions[0].kernel: must not be empty"],
  ["functions: [{ name: f, observe: gps, kernel: 5 }]", "c.yaml:4:46 functions[0].kernel: expected a string, got number 5"],
  ["functions: [{ name: f, observe: gps, params: [] }]", "c.yaml:4:46 functions[0].params: expected a map, got a list"],
  ["functions: [{ name: f, observe: gps, params: 5 }]", "c.yaml:4:46 functions[0].params: expected a map, got number 5"],
  ["functions: [{ name: f, observe: gps, batch: { max: 0 } }]", "c.yaml:4:52 functions[0].batch.max: must be at least 1"],
  ["functions: [{ name: f, observe: gps, batch: { max: 1.5 } }]", "c.yaml:4:52 functions[0].batch.max: expected a whole number, got number 1.5"],
  ["functions: [{ name: f, observe: gps, batch: { ms: -1 } }]", "c.yaml:4:51 functions[0].batch.ms: must be at least 0"],
  ["functions: [{ name: f, observe: gps, batch: { mx: 1 } }]", "c.yaml:4:47 functions[0].batch.mx: unknown field (did you mean \"max\"?)"],
  ["functions: [{ name: f, observe: gps, batch: x }]", "c.yaml:4:45 functions[0].batch: expected a map, got string \"x\""],
  ["functions: [{ name: f, observe: gps, wasi: wasm }]", "c.yaml:4:44 functions[0].wasi: expected one of \"node\", \"wasmer\", got string \"wasm\" (did you mean \"wasmer\"?)"],
  ["functions: [{ name: f, observe: gps, timeout: -1 }]", "c.yaml:4:47 functions[0].timeout: must be at least 0"],
  ["functions: [{ name: f, observe: gps, timeout: x }]", "c.yaml:4:47 functions[0].timeout: expected a number, got string \"x\""],
  ["functions: [{ name: f, observe: gps, zzzz: 1, future: [1] }]", {"functions":[{"name":"f","observe":["gps"],"zzzz":1,"future":[1],"emit":[],"dispatch":{"kind":"balance"},"instances":1,"host":"remote","where":"edge"}]}],
  ["functions: [{ name: f, observe: gps, sink: mqtt, host: local }]", {"functions":[{"name":"f","observe":["gps"],"host":"local","sink":"mqtt","emit":[],"dispatch":{"kind":"balance"},"instances":1,"where":"edge"}]}],
  ["functions: [{ name: f, observe: [gps], emit: [], batch: { max: 8, ms: 5 }, wasi: node, timeout: 0, host: local, kernel: geofence, params: { fences: workflows/testdata/good/square.geojson } }]", {"functions":[{"name":"f","observe":["gps"],"emit":[],"host":"local","kernel":"geofence","params":{"fences":"workflows/testdata/good/square.geojson"},"batch":{"max":8,"ms":5},"wasi":"node","timeout":0,"dispatch":{"kind":"balance"},"instances":1,"where":"edge"}]}],
  ["functions: [{ name: f, observe: gps, obsrve: gps }]", "c.yaml:4:38 functions[0].obsrve: unknown field (did you mean \"observe\"?)"],
  ["functions: [{ name: f, obsrve: gps }]", "c.yaml:4:24 functions[0].obsrve: unknown field (did you mean \"observe\"?)"],
  ["functions: [{ name: f, observe: gps }, { name: g, observe: 5, host: 7 }]", "c.yaml:4:60 functions[1].observe: expected a tag name or a list of tag names"],
  ["sources: {}", "c.yaml:4:10 sources: expected a list, got a map"],
  ["sources: [{ name: s }]", "c.yaml:4:11 sources[0].run: required field is missing"],
  ["sources: [{ name: s, run: \"\" }]", "c.yaml:4:27 sources[0].run: must not be empty"],
  ["sources: [{ name: s, run: builtin:traffic, zipper: 5 }]", "c.yaml:4:52 sources[0].zipper: expected a string, got number 5"],
  ["sources: [{ name: s, run: builtin:traffic, params: 5 }]", "c.yaml:4:52 sources[0].params: expected a map, got number 5"],
  ["sources: [{ name: s, run: builtin:traffic, parms: {} }]", "c.yaml:4:44 sources[0].parms: unknown field (did you mean \"params\"?)"],
  ["sources: [{ name: \"s s\", run: builtin:traffic }]", "c.yaml:4:19 sources[0].name: must start with a letter and use only letters, digits, \"-\" and \"_\""],
  ["sources: [{ name: s, run: builtin:traffic, zipper: \"quic://127.0.0.1:9000\" }]", {"sources":[{"name":"s","run":"builtin:traffic","zipper":"quic://127.0.0.1:9000"}]}],
  ["mqtt: { url: 5 }", "c.yaml:4:14 mqtt.url: expected a string, got number 5"],
  ["mqtt: { url: http://x }", "c.yaml:4:14 mqtt.url: an MQTT broker URL: mqtt://, mqtts://, ws:// or wss://host[:port]"],
  ["mqtt: { url: mqtt://x, username: 5 }", "c.yaml:4:34 mqtt.username: expected a string, got number 5"],
  ["mqtt: { url: mqtt://x, protocol: 5 }", {"mqtt":{"kind":"external","url":"mqtt://x","protocolVersion":5}}],
  ["mqtt: { url: mqtt://x, protocol: \"5\" }", {"mqtt":{"kind":"external","url":"mqtt://x","protocolVersion":5}}],
  ["mqtt: { url: mqtt://x, protocol: \"3.1.1\" }", {"mqtt":{"kind":"external","url":"mqtt://x","protocolVersion":4}}],
  ["mqtt: { url: mqtt://x, protocol: 4 }", "c.yaml:4:34 mqtt.protocol: expected \"3.1.1\" or 5"],
  ["mqtt: { url: mqtt://x, protocol: \"3\" }", "c.yaml:4:34 mqtt.protocol: expected \"3.1.1\" or 5"],
  ["mqtt: { url: mqtt://x, tls: { insecure: yes } }", "c.yaml:4:41 mqtt.tls.insecure: expected boolean, got string \"yes\""],
  ["mqtt: { url: mqtt://x, tls: { ca: 5 } }", "c.yaml:4:35 mqtt.tls.ca: expected a string, got number 5"],
  ["mqtt: { url: mqtt://x, tls: { cas: x } }", "c.yaml:4:31 mqtt.tls.cas: unknown field (did you mean \"ca\"?)"],
  ["mqtt: { url: mqtt://x, tls: x }", "c.yaml:4:29 mqtt.tls: expected a map, got string \"x\""],
  ["mqtt: { embedded: { host: \"\" } }", "c.yaml:4:27 mqtt.embedded.host: must not be empty"],
  ["mqtt: { embedded: { port: \"1884\" } }", {"mqtt":{"kind":"embedded","host":"127.0.0.1","port":1884,"wsPort":8083}}],
  ["mqtt: { embedded: { port: x } }", "c.yaml:4:27 mqtt.embedded.port: expected a number, got string \"x\""],
  ["mqtt: { embedded: { ws: false } }", {"mqtt":{"kind":"embedded","host":"127.0.0.1","port":1883,"wsPort":false}}],
  ["mqtt: { embedded: { ws: true } }", "c.yaml:4:25 mqtt.embedded.ws: expected a port 0–65535, or false for none"],
  ["mqtt: { embedded: { ws: \"8084\" } }", {"mqtt":{"kind":"embedded","host":"127.0.0.1","port":1883,"wsPort":8084}}],
  ["mqtt: { embedded: { ws: -1 } }", "c.yaml:4:25 mqtt.embedded.ws: must be at least 0"],
  ["mqtt: { embedded: { ws: 70000 } }", "c.yaml:4:25 mqtt.embedded.ws: must be at most 65535"],
  ["mqtt: { embedded: { ws: 1.5 } }", "c.yaml:4:25 mqtt.embedded.ws: expected a port 0–65535, or false for none"],
  ["mqtt: { embeded: {} }", "c.yaml:4:9 mqtt.embeded: unknown field (did you mean \"embedded\"?)"],
  ["mqtt: x", "c.yaml:4:7 mqtt: expected a map, got string \"x\""],
  ["mqtt: { embedded: { port: \"${PORT}\", ws: \"${PORT}\" } }", {"mqtt":{"kind":"embedded","host":"127.0.0.1","port":9464,"wsPort":9464}}],
  ["mqtt: { url: wss://x/mqtt, username: u, password: p, clientId: c, tls: { ca: ca.pem, insecure: true } }", {"mqtt":{"kind":"external","url":"wss://x/mqtt","username":"u","password":"p","clientId":"c","protocolVersion":4,"tls":{"ca":"<repo>/ca.pem","insecure":true}}}],
  ["dashboard: false", {}],
  ["dashboard: true", "c.yaml:4:12 dashboard: expected false or { host, port, mqtt }"],
  ["dashboard: { port: 70000 }", "c.yaml:4:20 dashboard.port: must be at most 65535"],
  ["dashboard: { mqtt: http://x }", "c.yaml:4:20 dashboard.mqtt: the broker's MQTT over WebSocket URL: ws:// or wss://host[:port][/path]"],
  ["dashboard: { host: \"\" }", "c.yaml:4:20 dashboard.host: must not be empty"],
  ["dashboard: x", "c.yaml:4:12 dashboard: expected false or { host, port, mqtt }"],
  ["dashboard: { prot: 1 }", "c.yaml:4:14 dashboard.prot: unknown field (did you mean \"port\"?)"],
  ["dashboard: { port: \"${PORT}\" }", {"dashboard":{"host":"127.0.0.1","port":9464}}],
  ["dashboard: {}", {"dashboard":{"host":"127.0.0.1","port":8080}}],
  ["cluster: {}", "c.yaml:4:10 cluster.nats: required field is missing"],
  ["cluster: { nats: 5 }", "c.yaml:4:18 cluster.nats: expected a NATS server URL (nats://host[:port] or tls://host[:port]) or a list of them"],
  ["cluster: { nats: http://x }", "c.yaml:4:18 cluster.nats: a NATS server URL: nats://host[:port] or tls://host[:port]"],
  ["cluster: { nats: [] }", "c.yaml:4:18 cluster.nats: must not be empty"],
  ["cluster: { nats: [http://x] }", "c.yaml:4:19 cluster.nats[0]: a NATS server URL: nats://host[:port] or tls://host[:port]"],
  ["cluster: { nats: [5] }", "c.yaml:4:18 cluster.nats: expected a NATS server URL (nats://host[:port] or tls://host[:port]) or a list of them"],
  ["cluster: { nats: [nats://a, 5] }", "c.yaml:4:18 cluster.nats: expected a NATS server URL (nats://host[:port] or tls://host[:port]) or a list of them"],
  ["cluster: { nats: nats://a, stream: a.b }", "c.yaml:4:36 cluster.stream: a JetStream stream name: letters, digits, \"-\" and \"_\" (it is the first token of every subject)"],
  ["cluster: { nats: nats://a, stream: 5 }", "c.yaml:4:36 cluster.stream: expected a string, got number 5"],
  ["cluster: { nats: nats://a, partitions: 0 }", "c.yaml:4:40 cluster.partitions: must be at least 1"],
  ["cluster: { nats: nats://a, partitions: 2000 }", "c.yaml:4:40 cluster.partitions: must be at most 1024"],
  ["cluster: { nats: nats://a, partitions: 1.5 }", "c.yaml:4:40 cluster.partitions: expected a whole number, got number 1.5"],
  ["cluster: { nats: nats://a, maxAge: 0 }", "c.yaml:4:36 cluster.maxAge: must be more than 0"],
  ["cluster: { nats: nats://a, maxAge: -1 }", "c.yaml:4:36 cluster.maxAge: must be more than 0"],
  ["cluster: { nats: nats://a, maxAge: x }", "c.yaml:4:36 cluster.maxAge: expected a number, got string \"x\""],
  ["cluster: { nats: nats://a, maxBytes: 0 }", "c.yaml:4:38 cluster.maxBytes: must be more than 0"],
  ["cluster: { nats: nats://a, maxBytes: 1.5 }", "c.yaml:4:38 cluster.maxBytes: expected a whole number, got number 1.5"],
  ["cluster: { nats: nats://a, user: \"\" }", "c.yaml:4:34 cluster.user: must not be empty"],
  ["cluster: { nats: nats://a, user: u, pass: 5 }", "c.yaml:4:43 cluster.pass: expected a string, got number 5"],
  ["cluster: { nats: nats://a, token: \"\" }", "c.yaml:4:35 cluster.token: must not be empty"],
  ["cluster: { nats: nats://a, creds: \"\" }", "c.yaml:4:35 cluster.creds: must not be empty"],
  ["cluster: { nats: nats://a, tls: { ca: \"\" } }", "c.yaml:4:39 cluster.tls.ca: must not be empty"],
  ["cluster: { nats: nats://a, tls: x }", "c.yaml:4:33 cluster.tls: expected a map, got string \"x\""],
  ["cluster: { nats: nats://a, tls: { cafile: x } }", "c.yaml:4:35 cluster.tls.cafile: unknown field"],
  ["cluster: { natss: nats://a }", "c.yaml:4:12 cluster.natss: unknown field (did you mean \"nats\"?)"],
  ["cluster: { nats: nats://a, secret: 1 }", "c.yaml:4:28 cluster.secret: unknown field"],
  ["cluster: x", "c.yaml:4:10 cluster: expected a map, got string \"x\""],
  ["cluster: { nats: [nats://a, \"tls://b:4222\"], stream: city, partitions: 16, maxAge: 3600, maxBytes: 1000000, user: u, pass: p, tls: { ca: ca.pem, cert: c.pem, key: k.pem } }", {"cluster":{"servers":["nats://a","tls://b:4222"],"stream":"city","partitions":16,"maxAgeMs":3600000,"maxBytes":1000000,"user":"u","pass":"p","tls":{"ca":"<repo>/ca.pem","cert":"<repo>/c.pem","key":"<repo>/k.pem"}}}],
  ["cluster: { nats: nats://a, token: t, creds: e.creds }", "c.yaml:4:45 cluster.creds: one way to authenticate: token and creds are both set"],
  ["hosts: 0\nstate: 5", "c.yaml:4:8 hosts: must be at least 1"],
  ["state: 5\nhosts: 0", "c.yaml:4:8 state: expected a string, got number 5"],
  ["metrics: { port: x, host: \"\" }", "c.yaml:4:18 metrics.port: expected a number, got string \"x\""],
];

/** whole files */
const whole: [yaml: string, expected: Expected][] = [
  // a misspelt field is said over the missing one it explains, not over an earlier problem elsewhere
  ["name: c\nlisten: [quic://127.0.0.1:9000]\ntags: { gps: 16 }\nfunctions:\n  - { name: f, observe: gsp }\n  - { name: g, observe: gps, kernel: geofence, param: {} }", "c.yaml:5:16 functions[0].observe: unknown tag \"gsp\" (did you mean \"gps\"?)"],
  ["listen: [quic://127.0.0.1:9000]\ntags: { gps: 16 }", "c.yaml:1:1 name: required field is missing"],
  ["name: c\ntags: { gps: 16 }", "c.yaml:1:1 listen: required field is missing"],
  ["name: c\nlisten: [quic://127.0.0.1:9000]", "c.yaml:1:1 tags: required field is missing"],
  ["tags: { gps: 16 }\nlistn: []", "c.yaml:2:1 listn: unknown field (did you mean \"listen\"?)"],
  ["name: 5\nlisten: [quic://127.0.0.1:9000]\ntags: { gps: 16 }", "c.yaml:1:7 name: expected a string, got number 5"],
  ["name: \"\"\nlisten: [quic://127.0.0.1:9000]\ntags: { gps: 16 }", "c.yaml:1:7 name: must not be empty"],
  ["name: ~\nlisten: [quic://127.0.0.1:9000]\ntags: { gps: 16 }", "c.yaml:1:7 name: expected a string, got nothing"],
  ["name: c\nlisten: []\ntags: { gps: 16 }", "c.yaml:2:9 listen: needs at least one address"],
  ["name: c\nlisten: [5]\ntags: { gps: 16 }", "c.yaml:2:10 listen[0]: expected a string, got number 5"],
  ["name: c\nlisten: [quic://127.0.0.1:9000]\ntags: { gps: 1.5 }", "c.yaml:3:14 tags.gps: expected a whole number, got number 1.5"],
  ["name: c\nlisten: [quic://127.0.0.1:9000]\ntags: { gps: x }", "c.yaml:3:14 tags.gps: expected a number, got string \"x\""],
  ["name: c\nlisten: [quic://127.0.0.1:9000]\ntags: []", "c.yaml:3:7 tags: expected a map, got a list"],
  ["name: c\nlisten: [quic://127.0.0.1:9000]\ntags: {}", {"name":"c","listen":["quic://127.0.0.1:9000"],"tags":{},"functions":[]}],
  ["nam: c\nlisten: [quic://127.0.0.1:9000]\ntags: { gps: 16 }\nlimits: 1", "c.yaml:1:1 nam: unknown field (did you mean \"name\"?)"],
  ["name: c\nlistem: [quic://127.0.0.1:9000]\ntags: { gps: 16 }\nfunctions: [{ name: f, observe: 5 }]", "c.yaml:2:1 listem: unknown field (did you mean \"listen\"?)"],
];

/** the message, or the loaded fields the row names, with this checkout's path as <repo> */
function outcome(text: string, expected: Expected): Expected {
  try {
    const wf = parseWorkflow(text, 'c.yaml', ENV) as unknown as Record<string, unknown>;
    const fields = typeof expected === 'string' ? Object.keys(wf) : Object.keys(expected);
    return JSON.parse(JSON.stringify(Object.fromEntries(fields.map((k) => [k, wf[k]]))).replaceAll(REPO, '<repo>'));
  } catch (e) {
    return (e as Error).message;
  }
}

describe("the workflow's shape, in the loader's words", () => {
  it.each(appended)('%s', (yaml, expected) => expect(outcome(`${BASE}${yaml}\n`, expected)).toEqual(expected));
  it.each(whole)('%s', (yaml, expected) => expect(outcome(`${yaml}\n`, expected)).toEqual(expected));
});

// held to what the zod checks loaded them as (recorded before the rewrite); a workflow or a docs' YAML block
// changed on purpose is taken in with `npx vitest run -u workflows/shape-corpus.test.ts`
describe("the repository's workflows, loaded as before", () => {
  it.each(goodWorkflows())('$label', ({ file, text }) => {
    let got: unknown;
    try {
      got = JSON.parse(JSON.stringify(parseWorkflow(text, file, { GEOFLUX_TOKEN: 't0k', GEOFLUX_TEST_STATE: 'state' })).replaceAll(REPO, '<repo>'));
    } catch (e) {
      got = (e as Error).message.replaceAll(REPO, '<repo>');
    }
    expect(got).toMatchSnapshot();
  });
});
