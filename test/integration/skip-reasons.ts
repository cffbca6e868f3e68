/**
 * The skips a healthy run may have on this machine, each naming what is missing: an engine fact,
 * the multi-host lab (a run without one), or a kernel option this kernel lacks.
 */
export const HONEST_SKIP = /^engine |^needs several engines in one swarm|^kernel has no CONFIG_/;
