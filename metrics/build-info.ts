import { createRequire } from 'node:module';
import { gauge, type Family } from './families.ts';

// the package resolves itself by name, from the sources and from dist/ alike
export const packageVersion = (): string => (createRequire(import.meta.url)('geoflux/package.json') as { version: string }).version;

/** which geoflux and Node a scrape came from: what a dashboard joins on, and an alert on a fleet of mixed versions reads */
export const buildInfo = (): Family => gauge('geoflux_build_info', 'always 1: the geoflux version and the Node.js version of this process, as labels', () => [{ labels: { version: packageVersion(), node: process.version }, value: 1 }]);
