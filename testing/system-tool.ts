import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A program a test runs that npm does not install, and the Debian package that has it. */
export interface SystemTool {
  command: string;
  debian: string;
}

export const MOSQUITTO: SystemTool = { command: 'mosquitto', debian: 'mosquitto' };
export const MOSQUITTO_SUB: SystemTool = { command: 'mosquitto_sub', debian: 'mosquitto-clients' };
export const PROMTOOL: SystemTool = { command: 'promtool', debian: 'prometheus' };

/** the browser the dashboard tests and benchmark drive (testing/chromium.ts) */
export const CHROMIUM: SystemTool = { command: 'chromium', debian: 'chromium' };

/** Every tool some test needs, by command, so a README line can say which it runs. */
export const SYSTEM_TOOLS: readonly SystemTool[] = [MOSQUITTO, MOSQUITTO_SUB, PROMTOOL, CHROMIUM];

// Debian puts daemons (mosquitto) in sbin, which a user's PATH often leaves out
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Where the tool is installed, or undefined. */
export function findTool(tool: SystemTool, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN];
  for (const dir of dirs) {
    const path = join(dir, tool.command);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export const installHint = (tool: SystemTool): string => `needs ${tool.command}, which is not installed (Debian: apt-get install ${tool.debian})`;

const onCi = (env: NodeJS.ProcessEnv) => /^(true|1)$/i.test(env.CI ?? '');
const announced = new Set<string>();

/**
 * The path of a tool the calling test needs. When it is missing the test is skipped, printing what to
 * install, so `npm test` on a fresh machine fails only for real failures; with CI=true it fails instead,
 * so CI can never pass by skipping.
 */
export function requireTool(ctx: { skip(note: string): never }, tool: SystemTool, env: NodeJS.ProcessEnv = process.env): string {
  const path = findTool(tool, env);
  if (path) return path;
  const hint = installHint(tool);
  if (onCi(env)) throw new Error(`${hint}; CI=true, where a test that needs it fails rather than skips`);
  // vitest does not print a skip's note: say it once per test process
  if (!announced.has(tool.command)) console.warn(`skipped: ${hint}`);
  announced.add(tool.command);
  return ctx.skip(hint);
}
