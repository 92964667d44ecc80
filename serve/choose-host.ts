/** A host thread as placement reads it: its instances, and the share of its event loop busy lately (BusyShare). */
export interface HostLoad {
  instances: number;
  busy: number | undefined;
  /** it runs an instance of the function being placed already */
  runsIt: boolean;
}

/** the busy share under which a running host has room for an instance placed by load */
export const ROOMY = 0.5;

/**
 * Which of a pool's hosts an instance goes to; -1 for a new one. Spread: a new host while there are fewer
 * than `size` and each has an instance, else the one with fewest, which is how the workflow file's
 * functions, started together before any load is known, share out the cores. `byLoad` (an instance started
 * later: a deploy, a scale-up, a replace): the least busy host with room that does not run an instance of the
 * same function (its instances are there to share the work over cores, and the load read over the last 2 s
 * does not yet show one placed a moment ago), and only when there is none (or none has run long enough to
 * tell) spread as well. So a deploy starts no thread (an isolate: ~20 MB) while a running host idles, and
 * one that finds every host busy does.
 */
export function chooseHost(hosts: readonly HostLoad[], size: number, byLoad: boolean): number {
  if (byLoad) {
    let best = -1;
    for (const [i, h] of hosts.entries()) if (!h.runsIt && h.busy !== undefined && h.busy < ROOMY && (best < 0 || h.busy < hosts[best].busy!)) best = i;
    if (best >= 0) return best;
  }
  let least = -1;
  for (const [i, h] of hosts.entries()) if (least < 0 || h.instances < hosts[least].instances) least = i;
  return least >= 0 && (hosts[least].instances === 0 || hosts.length >= size) ? least : -1;
}
