import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedTls } from '../transport/tls.ts';
import { NATS_SERVER, requireTool } from '../testing/system-tool.ts';
import { startNatsServer, type NatsServer } from '../testing/nats-server-process.ts';
import { clusterOptions, connectCluster } from './cluster-options.ts';

const wf = { name: 'city traffic', dir: '/srv/flows' };

describe('clusterOptions', () => {
  it('fills in the stream from the workflow name, 8 partitions, and resolves files from the workflow folder', () => {
    const { options, problems } = clusterOptions({ nats: 'nats://10.0.0.5:4222', creds: 'edge.creds', tls: { ca: 'ca.pem' } }, wf);
    expect(problems).toEqual([]);
    expect(options).toEqual({ servers: ['nats://10.0.0.5:4222'], stream: 'city_traffic', partitions: 8, creds: '/srv/flows/edge.creds', tls: { ca: '/srv/flows/ca.pem', cert: undefined, key: undefined } });
  });

  it('takes the section docs/scale-out.md shows', () => {
    const doc = readFileSync(new URL('../docs/scale-out.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n(cluster:[^]*?)```/.exec(doc)![1];
    const { options, problems } = clusterOptions(parse(yaml).cluster, wf);
    expect(problems).toEqual([]);
    expect(options).toMatchObject({ servers: ['nats://nats-1:4222', 'nats://nats-2:4222'], stream: 'city', partitions: 16, maxAgeMs: 3_600_000, creds: '/srv/flows/edge.creds', tls: { ca: '/srv/flows/nats-ca.pem' } });
  });

  it('names each problem by its field path', () => {
    const path = (input: unknown) => clusterOptions(input, wf).problems.map((p) => p.path.join('.'));
    expect(path({ nats: 'http://x' })).toEqual(['cluster.nats']);
    expect(path({ nats: 'nats://x', partitions: 0 })).toEqual(['cluster.partitions']);
    expect(path({ nats: 'nats://x', stream: 'a.b' })).toEqual(['cluster.stream']);
    expect(path({ nats: 'nats://x', secret: 1 })).toEqual(['cluster']);
    expect(path({ nats: 'nats://x', user: 'u' })).toEqual(['cluster.user']);
    expect(path({ nats: 'nats://x', user: 'u', pass: 'p', token: 't' })).toEqual(['cluster.token']);
    expect(path({ nats: 'nats://x', tls: { cert: 'c.pem' } })).toEqual(['cluster.tls.key']);
  });

  it('says what is wrong with the shape in the words zod said it before the checks were written out', () => {
    const cases: [input: unknown, problems: [path: string, reason: string][]][] = [
      [{"nats": 5}, [["cluster.nats", "Invalid input"]]],
      [{"nats": "http://x"}, [["cluster.nats", "a NATS server URL: nats://host[:port] or tls://host[:port]"]]],
      [{"nats": []}, [["cluster.nats", "Too small: expected array to have >=1 items"]]],
      [{"nats": ["nats://a", "http://x"]}, [["cluster.nats.1", "a NATS server URL: nats://host[:port] or tls://host[:port]"]]],
      [{}, [["cluster.nats", "Invalid input"]]],
      [{"nats": "nats://a", "partitions": 1.5, "maxAge": 0, "stream": "a.b", "secret": 1, "other": 2}, [["cluster.stream", "a JetStream stream name: letters, digits, \"-\" and \"_\" (it is the first token of every subject)"], ["cluster.partitions", "Invalid input: expected int, received number"], ["cluster.maxAge", "Too small: expected number to be >0"], ["cluster", "Unrecognized keys: \"secret\", \"other\""]]],
      [{"nats": "nats://a", "maxBytes": -1, "tls": {"ca": ""}}, [["cluster.maxBytes", "Too small: expected number to be >0"], ["cluster.tls.ca", "Too small: expected string to have >=1 characters"]]],
      ["x", [["cluster", "Invalid input: expected object, received string"]]],
      [null, [["cluster", "Invalid input: expected object, received null"]]],
    ];
    for (const [input, problems] of cases) expect(clusterOptions(input, wf).problems.map((p) => [p.path.join('.'), p.reason])).toEqual(problems);
  });
});

describe('connectCluster, against nats-server', () => {
  let server: NatsServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('authenticates with a token, and a wrong one is refused', async (ctx) => {
    requireTool(ctx, NATS_SERVER);
    server = await startNatsServer({ args: ['--auth', 's3cret'] });
    const { options } = clusterOptions({ nats: server.url, token: 's3cret' }, wf);
    const nc = await connectCluster(options!);
    await nc.flush();
    await nc.close();
    await expect(connectCluster({ ...options!, token: 'wrong' })).rejects.toThrow(/authorization/i);
  });

  it('authenticates with user and pass', async (ctx) => {
    requireTool(ctx, NATS_SERVER);
    server = await startNatsServer({ args: ['--user', 'edge', '--pass', 'pw'] });
    const { options } = clusterOptions({ nats: server.url, user: 'edge', pass: 'pw' }, wf);
    const nc = await connectCluster(options!);
    await nc.flush();
    await nc.close();
  });

  it('speaks TLS to a server whose certificate the workflow names as its CA, and refuses it without', async (ctx) => {
    requireTool(ctx, NATS_SERVER);
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-nats-tls-'));
    try {
      const { cert, key } = await selfSignedTls();
      writeFileSync(join(dir, 'server.pem'), cert);
      writeFileSync(join(dir, 'server-key.pem'), key);
      server = await startNatsServer({ args: ['--tls', '--tlscert', join(dir, 'server.pem'), '--tlskey', join(dir, 'server-key.pem')] });
      const url = `tls://127.0.0.1:${server.port}`;
      const { options } = clusterOptions({ nats: url, tls: { ca: 'server.pem' } }, { name: 'x', dir });
      const nc = await connectCluster(options!);
      await nc.flush();
      expect(nc.info?.tls_required).toBe(true);
      await nc.close();
      await expect(connectCluster(clusterOptions({ nats: url }, wf).options!)).rejects.toThrow(/certificate/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
