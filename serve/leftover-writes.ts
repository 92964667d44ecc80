import { relative } from 'node:path';
import type { Logger } from '../log/logger.ts';
import { removeLeftoverWrites } from '../transport/state-files.ts';
import { DeploymentStore } from './deployment-store.ts';
import { savedStatesFolder } from './saved-state.ts';

/**
 * The temporary files that writes cut short left in the state folder (serve ended between a write and its
 * rename: a second Ctrl-C while it saved its kernels' state, a kill during a deploy). None is ever read, but a
 * saved state's is as large as the state, and each forced exit would leave another: they are removed as serve
 * starts, once it holds the folder's lock (no other serve writes there; a worker's writes are spared by their
 * pid), and said in one line.
 */
export async function removeLeftoverStateWrites(stateDir: string, log: Logger): Promise<void> {
  const { removed, failed } = await removeLeftoverWrites([stateDir, savedStatesFolder(stateDir), new DeploymentStore(stateDir).modulesFolder]);
  if (removed.length) log.info(`state folder ${stateDir}: removed ${removed.length} temporary file${removed.length === 1 ? '' : 's'} left by a write cut short (serve ended mid-write): ${removed.map((p) => relative(stateDir, p)).join(', ')}`);
  if (failed.length) log.warn(`state folder ${stateDir}: the temporary files left by a write cut short could not all be removed: ${failed.join('; ')}`);
}
