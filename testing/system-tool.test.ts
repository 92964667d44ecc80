import { describe, expect, it, vi } from 'vitest';
import { findTool, requireTool, type SystemTool } from './system-tool.ts';

const MISSING: SystemTool = { command: 'geoflux-no-such-tool', debian: 'geoflux-no-such-package' };
const SH: SystemTool = { command: 'sh', debian: 'dash' };

class Skipped extends Error {}
// stands in for vitest's test context, whose skip() throws to end the test
const context = () => ({ skip: vi.fn((note: string): never => { throw new Skipped(note); }) });

describe('requireTool', () => {
  it('returns the path of a tool that is installed, CI or not', () => {
    for (const CI of ['', 'true']) {
      const ctx = context();
      expect(requireTool(ctx, SH, { PATH: process.env.PATH, CI })).toBe(findTool(SH));
      expect(ctx.skip).not.toHaveBeenCalled();
    }
    expect(findTool(SH)).toMatch(/\/sh$/);
  });

  it('skips the test when the tool is missing, saying which Debian package to install', () => {
    const ctx = context();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(() => requireTool(ctx, MISSING, { PATH: '/nonexistent' })).toThrow(Skipped);
      expect(ctx.skip).toHaveBeenCalledWith('needs geoflux-no-such-tool, which is not installed (Debian: apt-get install geoflux-no-such-package)');
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('apt-get install geoflux-no-such-package'));
    } finally {
      warn.mockRestore();
    }
  });

  it('takes only the path a tool names, and counts a tool whose files are missing as missing', () => {
    expect(findTool({ command: 'sh', debian: 'dash', at: '/nonexistent/sh' })).toBeUndefined();
    expect(findTool({ command: 'sh', debian: 'dash', at: findTool(SH) })).toBe(findTool(SH));
    expect(findTool({ ...SH, needs: ['/nonexistent/libc.a'] })).toBeUndefined();
  });

  it('fails instead under CI=true, so CI can never skip it', () => {
    const ctx = context();
    expect(() => requireTool(ctx, MISSING, { PATH: '/nonexistent', CI: 'true' })).toThrow(
      /needs geoflux-no-such-tool, which is not installed \(Debian: apt-get install geoflux-no-such-package\); CI=true/,
    );
    expect(ctx.skip).not.toHaveBeenCalled();
  });
});
