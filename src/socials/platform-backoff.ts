/**
 * @module socials/platform-backoff — the one bound on how long a platform's answer can make us
 * wait (red team F4).
 *
 * Meta's `estimated_time_to_regain_access`, the blocks the rate governor stores from it
 * (`api_budgets.blocked_until`), the `retryAfterSeconds` of a throttled call and the
 * `next_sync_at` derived from them all come from a platform's answer. Taken as-is, one answer
 * ("500000000 minutes", by a glitch, a compromised proxy, or anyone with the sandbox's control
 * API) stopped every sync for centuries, and the block survived restarts. Every such wait is
 * clamped to `MAX_PLATFORM_BACKOFF_MS`, and each clamp is logged by the code that applies it.
 *
 * Provider-neutral on purpose: the Instagram parser, the rate governor, the sync service and the
 * store's due-sync query all read these constants. This module imports nothing.
 */

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/**
 * The longest wait a platform's answer can impose: 24 hours. Meta's throttles last minutes to an
 * hour (instagram-api.md §3); a day is far beyond any real one and still short enough that a bad
 * answer costs a day of syncing, not the gallery.
 */
export const MAX_PLATFORM_BACKOFF_MS = DAY
export const MAX_PLATFORM_BACKOFF_MINUTES = MAX_PLATFORM_BACKOFF_MS / MINUTE

/**
 * The longest routine wait this version schedules: an interval stretched to fit a daily quota
 * (`socials/sync-plan.ts`) stops at 30 days (plus its 1 % jitter), beyond the configuration's
 * upper bound (`SYNC_INTERVAL_MINUTES`: 10 080 minutes, 7 days, plus 10 %).
 */
const LONGEST_ROUTINE_INTERVAL_MS = Math.round(30 * DAY * 1.01)

/**
 * No `next_sync_at` written by this version lies further than this from the moment it was
 * written: the clamp plus the longest routine interval. A stored time beyond `now + this` was
 * written before the clamp existed (red team F4: "2977-07-31") and counts as due — the sync that
 * follows writes a sane one. (If the configuration ever allows longer intervals, such accounts
 * would only sync early, never late.)
 */
export const MAX_SYNC_DELAY_MS = MAX_PLATFORM_BACKOFF_MS + LONGEST_ROUTINE_INTERVAL_MS

export interface ClampedBackoff {
  /** The wait to use: at most `MAX_PLATFORM_BACKOFF_MS`, never negative. */
  readonly ms: number
  /** `true` when the platform asked for more than the bound (the caller logs it). */
  readonly clamped: boolean
}

/** Bounds a wait that a platform's answer asked for; anything not a finite number is the bound. */
export function clampPlatformBackoffMs(ms: number): ClampedBackoff {
  if (Number.isNaN(ms)) return { ms: MAX_PLATFORM_BACKOFF_MS, clamped: true }
  if (ms > MAX_PLATFORM_BACKOFF_MS) return { ms: MAX_PLATFORM_BACKOFF_MS, clamped: true }
  return { ms: Math.max(0, ms), clamped: false }
}

/** A time for a log line: ISO when representable (centuries-away values are), else the number. */
export function logTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms)
}

/** When a platform throttles without saying for how long (Meta's X-App-Usage has no regain time). */
export const DEFAULT_REGAIN_MINUTES = 15
