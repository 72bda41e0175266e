/**
 * @module socials/sync-plan — how often a platform's accounts can be synced when all of them
 * share one daily quota (YouTube's: units per Google Cloud project per day). Pure arithmetic.
 *
 * With `N` accounts, routine work may spend `U` units a day (the quota less its reserve). A
 * routine sync of an unchanged account costs `c` units; a full reconciliation `f` (the platform's
 * `SyncCost`: a base, plus a cost per page of posts). Each account syncs every `T` and reconciles
 * fully every `F`, so the day's spend is `N · DAY · (c / T + (f − c) / F)`, which must stay ≤ `U`.
 *
 * - Below the quota, the configured intervals stand (`SYNC_INTERVAL_MINUTES`,
 *   `FULL_SYNC_INTERVAL_HOURS`).
 * - Above it, both stretch by the same factor, evenly for every account (nobody starves at the
 *   end of the queue), with `F` at most 30 days: YouTube's developer policy wants stored data
 *   refreshed at least that often, so a full reconciliation (which re-reads every video) comes
 *   at least every 30 days and `T` gives way first.
 * - When even that cannot fit (too many accounts for the quota), `T` and `F` are 30 days and the
 *   plan carries a warning: some accounts will not be refreshed in time.
 *
 * A margin of a few per cent keeps the plan below the quota, so that the pacing of the day
 * (`RateGovernor.pressure`) rarely has to postpone a due account.
 */

const DAY = 86_400_000

/** YouTube API Services policy: stored API data is refreshed at least every 30 days. */
export const MAX_REFRESH_AGE_MS = 30 * DAY

/** Planned below the quota by this share, for the spread of the schedule. */
export const PLAN_MARGIN = 0.02

/** The units one sync spends, as the platform's calls add up. */
export interface SyncCost {
  /** A routine sync that finds nothing new (YouTube: channels + the newest playlist page). */
  readonly unchanged: number
  /** A full reconciliation: `base` + `perPage` for each page of `pageSize` posts. */
  readonly fullBase: number
  readonly fullPerPage: number
  readonly pageSize: number
}

export interface SyncPlanInput {
  /** Accounts of the platform that the scheduler syncs. */
  readonly accounts: number
  /** Posts they hold, in all (the size of a full reconciliation). */
  readonly posts: number
  /** Units routine work may spend per day; `null`: no daily quota to fit. */
  readonly routineUnitsPerDay: number | null
  readonly cost: SyncCost | null
  /** The configured intervals. */
  readonly intervalMs: number
  readonly fullIntervalMs: number
}

export interface SyncPlan {
  readonly intervalMs: number
  readonly fullIntervalMs: number
  /** Longer than configured, to fit the quota. */
  readonly stretched: boolean
  /** Units a day the plan spends (0 without a quota). */
  readonly unitsPerDay: number
  /** Why the plan cannot keep every account fresh within 30 days; `null` when it can. */
  readonly warning: string | null
}

/** Units of one full reconciliation of an account holding `posts` posts. */
export function fullSyncUnits(cost: SyncCost, posts: number): number {
  return cost.fullBase + cost.fullPerPage * Math.max(1, Math.ceil(posts / cost.pageSize))
}

/** Units a day `accounts` spend at intervals `t` and `f`. */
function spend(accounts: number, c: number, f: number, t: number, full: number): number {
  return accounts * DAY * (c / t + Math.max(0, f - c) / full)
}

export function planSyncs(input: SyncPlanInput): SyncPlan {
  const { intervalMs, fullIntervalMs, cost, routineUnitsPerDay: quota } = input
  const configured = {
    intervalMs,
    fullIntervalMs,
    stretched: false,
    unitsPerDay: 0,
    warning: null,
  }
  if (quota === null || cost === null || input.accounts === 0) return configured
  const n = input.accounts
  const c = cost.unchanged
  const f = fullSyncUnits(cost, input.posts / n)
  const usable = quota * (1 - PLAN_MARGIN)
  const atConfigured = spend(n, c, f, intervalMs, fullIntervalMs)
  if (atConfigured <= usable) return { ...configured, unitsPerDay: Math.round(atConfigured) }

  // both intervals stretch by one factor: F = k · T
  const k = fullIntervalMs / intervalMs
  let t = (n * DAY * (c + Math.max(0, f - c) / k)) / usable
  let full = k * t
  if (full > MAX_REFRESH_AGE_MS) {
    // a full reconciliation every 30 days; T takes what is left of the quota
    full = MAX_REFRESH_AGE_MS
    const left = usable - (n * DAY * Math.max(0, f - c)) / full
    t = left > 0 ? (n * DAY * c) / left : Number.POSITIVE_INFINITY
  }
  t = Math.max(t, intervalMs)
  full = Math.max(full, fullIntervalMs, t)
  if (t <= MAX_REFRESH_AGE_MS)
    return {
      intervalMs: Math.round(t),
      fullIntervalMs: Math.round(full),
      stretched: true,
      unitsPerDay: Math.round(spend(n, c, f, t, full)),
      warning: null,
    }
  const needed = Math.round(spend(n, c, f, MAX_REFRESH_AGE_MS, MAX_REFRESH_AGE_MS))
  return {
    intervalMs: MAX_REFRESH_AGE_MS,
    fullIntervalMs: MAX_REFRESH_AGE_MS,
    stretched: true,
    unitsPerDay: needed,
    warning:
      `${n.toLocaleString('en-US')} accounts need about ${needed.toLocaleString('en-US')} units a day to be refreshed every 30 days, ` +
      `but routine syncs may spend ${Math.round(quota).toLocaleString('en-US')}: some accounts will not be refreshed within 30 days. ` +
      'Ask the platform for a larger quota (README).',
  }
}
