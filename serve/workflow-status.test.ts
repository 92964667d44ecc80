import { describe, expect, it } from 'vitest';
import { loadWorkflow } from '../workflows/load.ts';
import { countedTags } from './workflow-status.ts';

describe('what the counters count', () => {
  it('counts fixes on the tags only sources write, alerts on the tags alert sinks publish', async () => {
    expect(countedTags(await loadWorkflow('workflow.yaml', {}))).toEqual({ fixes: ['gps'], alerts: ['fences', 'speeding', 'hotspots'] });
    expect(countedTags(await loadWorkflow('dashboard/testdata/live.yaml', {}))).toEqual({ fixes: ['gps'], alerts: ['fences', 'hotspots', 'pairs'] });
  });
});
