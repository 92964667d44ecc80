import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, findTool, installHint } from './system-tool.ts';

/**
 * Debian's chromium, driven by playwright-core: nothing downloads a browser. Headless with software WebGL2
 * (MapLibre renders), QUIC and every background service off so the page is the only thing on the network,
 * and a profile of its own, removed on close.
 */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Chromium {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchChromium(opts: { width?: number; height?: number; executablePath?: string } = {}): Promise<Chromium> {
  const executablePath = opts.executablePath ?? findTool(CHROMIUM);
  if (!executablePath) throw new Error(installHint(CHROMIUM));
  const profile = mkdtempSync(join(tmpdir(), 'geoflux-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
