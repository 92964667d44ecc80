import { execFile } from 'node:child_process';

/** One `geoflux` command in a process of its own, as a user runs it: its exit code and what it printed. */
export function runGeoflux(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((r) => execFile(process.execPath, ['bin/geoflux.js', ...args], (err, stdout, stderr) => r({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr })));
}
