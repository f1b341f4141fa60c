/**
 * The reconciler: periodic sweeps that ask WeChat about whatever is still in doubt (quiet or expired
 * attempts, stray open attempts, processing refunds), so a lost notify never leaves money unaccounted.
 */
export { reconcileOnce, reconcileRound, reconcilerStatus, startReconciler, stopReconciler, type ReconcilerStatus } from './reconciler';
