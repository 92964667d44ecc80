import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A TypeScript file of testdata/ run in a child process, and the first line it prints that `parse` takes. */
export async function startChild<T>(script: string, args: string[], parse: (line: string) => T | undefined): Promise<{ child: ChildProcess; value: T }> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const value = await new Promise<T>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      for (const line of out.split('\n')) {
        const v = parse(line);
        if (v !== undefined) return resolve(v);
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`${script} exited (${signal ?? code}) before it was ready`)));
  });
  return { child, value };
}

/** Sends `signal` and, for SIGKILL, waits for the process to be gone. */
export async function signal(child: ChildProcess, sig: 'SIGKILL' | 'SIGSTOP'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = sig === 'SIGKILL' ? new Promise((r) => child.once('exit', r)) : undefined;
  child.kill(sig);
  await gone;
}

export interface ZipperChild {
  child: ChildProcess;
  url: string;
  certHash: string;
}

/** testdata/zipper-process.ts listening on `listen`, keeping its certificate in `stateDir` */
export async function startZipperChild(listen: string, stateDir: string): Promise<ZipperChild> {
  const { child, value } = await startChild('./zipper-process.ts', [listen, stateDir], (line) =>
    line.startsWith('{') ? (JSON.parse(line) as { url: string; certHash: string }) : undefined,
  );
  return { child, ...value };
}
