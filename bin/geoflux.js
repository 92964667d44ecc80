#!/usr/bin/env node
// geoflux is written in TypeScript and runs from source: tsx compiles each module as it loads.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
