/**
 * DOCKNET_TIME_SCALE (a number ≥ 1): every wait and timeout of docknet is
 * multiplied by it — engine start, polling, commands, each scenario's time.
 * For machines where everything is slower by a known factor: docknet's kernel
 * VM under emulation sets it (TCG is 7-8× slower than the host). Recorded in
 * the run's report; probes' own network timeouts (ping -W 2) are not scaled,
 * since a packet's round trip does not slow down with emulation.
 */
export const TIME_SCALE_ENV = "DOCKNET_TIME_SCALE";

export function timeScale(): number {
  const value = Number(process.env[TIME_SCALE_ENV]);
  return Number.isFinite(value) && value >= 1 ? value : 1;
}

export function scaled(ms: number): number {
  return Math.round(ms * timeScale());
}
