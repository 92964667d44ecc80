import { spawnSync } from 'node:child_process';

/** The pid of a process that has ended: what a file named by a writer that exited (a forced exit) carries. */
export const endedPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;
