/**
 * A fix older than its device's last taken one would move the device back in time: it is skipped, but only
 * a few in a row, as the event kernels do (kernels/assembly/outlier-guard.ts, `isLate`): a device whose every
 * fix is older was wrong before — one fix from a clock set a year ahead, then put right — and would
 * otherwise be blinded until its clock caught up. The kernels' rule, for the TypeScript that keeps a
 * device's last time (a worker's repeat drop, the fleet index).
 */

/** after this many skipped in a row the device's clock was put right: its next older fix is taken (the kernels' MAX_REFUSED_IN_A_ROW) */
export const MAX_LATE_IN_A_ROW = 2;

/** whether a fix at `t` is skipped as late: older than `lastT`, its device's last taken, with fewer than MAX_LATE_IN_A_ROW skipped since (`late`) */
export const skipsLate = (t: number, lastT: number, late: number): boolean => t < lastT && late < MAX_LATE_IN_A_ROW;
