#!/usr/bin/env node
// The geoflux command: the compiled CLI in dist/ (npm run build makes it; npm install in a clone runs the build).
await import('../dist/runtime/quiet-wasi-warning.js');

// `geoflux fence ... | head` closes our stdout early: that is the reader's choice, not an error
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const { main } = await import('../dist/cli/main.js');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// a command has returned: if something it left behind (a socket a library keeps, a thread) holds the
// process up, it still exits, with the command's status, within 5 s
setTimeout(() => process.exit(code), 5000).unref();
