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
 * - A platform may ask for fresher full reconciliations (`SyncCost.fullWithin`; X: deleted posts
 *   leave within 24 hours): `F` stops stretching there, and `T` gives way. When the quota cannot
 *   keep it, both stretch alike (within 30 days), and the plan warns how late deletions may come
 *   and what to raise.
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
  /**
   * How fresh full reconciliations must be, when the platform asks for fresher than 30 days (X:
   * posts deleted on X leave within 24 hours) — what the plan stretches to before anything else,
   * and what it warns about when the quota cannot keep it.
   */
  readonly fullWithin?: {
    readonly ms: number
    /** What comes late when it is not kept, for the warning ("posts deleted on X"). */
    readonly late: string
    /** What to raise, for the warning ("X_MONTHLY_POST_READ_LIMIT"). */
    readonly raise: string
  }
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

/** "45 minutes", "26 hours", "3.5 days". */
function ageText(ms: number): string {
  if (ms < 2 * 3_600_000) return `${Math.ceil(ms / 60_000)} minutes`
  if (ms < 2 * DAY) return `${Math.ceil(ms / 3_600_000)} hours`
  return `${Math.round((ms / DAY) * 10) / 10} days`
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
  const { intervalMs, cost, routineUnitsPerDay: quota } = input
  // a platform's freshness bounds the configured full interval too
  const fullIntervalMs = Math.min(input.fullIntervalMs, cost?.fullWithin?.ms ?? Infinity)
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

  /** Both intervals stretched by one factor (F = k · T), F at most `fullMax`; null: no fit. */
  const fit = (fullMax: number): { t: number; full: number } | null => {
    const k = fullIntervalMs / intervalMs
    let t = (n * DAY * (c + Math.max(0, f - c) / k)) / usable
    let full = k * t
    if (full > fullMax) {
      // a full reconciliation as often as allowed; T takes what is left of the quota
      full = Math.max(fullMax, fullIntervalMs)
      const left = usable - (n * DAY * Math.max(0, f - c)) / full
      t = left > 0 ? (n * DAY * c) / left : Number.POSITIVE_INFINITY
    }
    t = Math.max(t, intervalMs)
    full = Math.max(full, fullIntervalMs, t)
    return t <= MAX_REFRESH_AGE_MS ? { t, full } : null
  }
  const stretched = (plan: { t: number; full: number }, warning: string | null): SyncPlan => ({
    intervalMs: Math.round(plan.t),
    fullIntervalMs: Math.round(plan.full),
    stretched: true,
    unitsPerDay: Math.round(spend(n, c, f, plan.t, plan.full)),
    warning,
  })
  const within = cost.fullWithin
  const fresh = fit(Math.min(MAX_REFRESH_AGE_MS, within?.ms ?? MAX_REFRESH_AGE_MS))
  if (fresh !== null) return stretched(fresh, null)
  if (within !== undefined && within.ms < MAX_REFRESH_AGE_MS) {
    // the platform's freshness cannot be kept: both intervals stretch alike within 30 days, and
    // the operator is told how late what a full reconciliation finds (deletions) may come
    const late = fit(MAX_REFRESH_AGE_MS)
    if (late !== null) {
      const wanted = Math.round(spend(n, c, f, intervalMs, Math.max(within.ms, fullIntervalMs)))
      return stretched(
        late,
        `${n.toLocaleString('en-US')} account${n === 1 ? '' : 's'} need about ${wanted.toLocaleString('en-US')} units a day to be synced every ${ageText(intervalMs)} and fully reconciled every ${ageText(within.ms)}, ` +
          `but routine syncs may spend ${Math.round(quota).toLocaleString('en-US')}: ${within.late} may stay in the gallery up to ${ageText(late.full)}, new ones take up to ${ageText(late.t)} to arrive. ` +
          `Raise ${within.raise} (README).`,
      )
    }
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
