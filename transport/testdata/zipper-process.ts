/**
 * A zipper in a process of its own, for tests and benchmarks that kill it: `node --import tsx
 * zipper-process.ts <listen-url> <state-dir>`. It prints one JSON line, {"url", "certHash"}, once it listens.
 */
import { setLogLevel } from '../../log/logger.ts';
import { Zipper } from '../../zipper/zipper.ts';

setLogLevel('silent');
const [listen, stateDir] = process.argv.slice(2);
const z = await Zipper.start({ name: 'faults', listen: [listen], tags: { gps: 16 }, functions: [] }, { stateDir });
console.log(JSON.stringify({ url: z.listeners[0].url, certHash: z.tls.certHash }));
