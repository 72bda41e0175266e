/**
 * @module socials/account-health — the rules shared by the jobs that move an account between
 * health states (see `AccountStatus` in store/types.ts): how long to wait after consecutive
 * failures, and how schedules are spread out.
 */

const MINUTE = 60_000

/** Wait after the n-th consecutive failure (n ≥ 1): 15 minutes, doubling, at most 6 hours. */
export function backoffMs(failures: number): number {
  return Math.min(6 * 60 * MINUTE, 15 * MINUTE * 2 ** Math.max(0, failures - 1))
}

/** `ms` spread by ±`spread` (0.1 = ±10 %) so that many accounts and instances do not align. */
export function withJitter(ms: number, spread: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 - spread + 2 * spread * random()))
}
