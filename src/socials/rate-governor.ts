/**
 * @module socials/rate-governor — keeps one platform's calls inside its limits, across restarts
 * and instances (the state lives in the store, table `api_budgets`, one row per scope:
 * `<platform>:app` and `<platform>:account:<account id>`).
 *
 * The windows and their limits are the platform's data (`capabilities.budgets`; Instagram: each
 * account's token 200 calls per rolling hour, the original app's assumption, overridable by
 * configuration; the app's calls counted, not capped).
 *
 * - Before every call: refuse while the app or the account is blocked (the platform throttled us
 *   and said for how long), and count the call against its budget — atomically, so concurrent
 *   workers cannot overshoot.
 * - After every call: remember the usage the platform reports (Meta: `X-App-Usage` for the app,
 *   `X-Business-Use-Case-Usage` for the account); above 80 % the governor paces calls and the
 *   scheduler postpones routine syncs; an answer the platform classifies as throttling
 *   (`CallReport.throttled`; Meta: code 4 for the app, 17, 32, 613, 80002 for an account) blocks
 *   the app or the account until `estimated_time_to_regain_access` — at most 24 hours
 *   (`MAX_PLATFORM_BACKOFF_MS`, red team F4). A longer block already stored (written before that
 *   bound existed) is cut to 24 hours from when it is first met.
 *
 * Every declared window is counted, in units (`budgets.costs[kind] ?? budgets.defaultCost`):
 * rolling ones by the store's sliding-window counter, daily and monthly ones as fixed windows whose
 * bounds `socials/budget-windows.ts` computes (YouTube's day ends at midnight Pacific time, 23 or
 * 25 hours long across a DST change). A scope's first window is its row (`<platform>:app`); each
 * further window of that scope gets its own, `<scope>:<budget name>` (X's monthly cap next to its
 * 15 minutes). A call reserves all its windows at once, all or none: an app call the app's
 * windows; an account's call the account's windows and the app windows that count every call
 * (`BudgetSpec.counts: 'every_call'`, YouTube's project quota), and is stopped by the app's blocks.
 *
 * @see shared/reference/instagram-api.md §3, §4
 */
import type { FastifyBaseLogger } from 'fastify'
import { GalleryError } from '../errors.ts'
import type { Clock } from '../clock.ts'
import type { Store } from '../store/types.ts'
import type { CallReport, PlatformUsage } from '../providers/http/send.ts'
import { PLATFORMS } from '../providers/registry.ts'
import type { ReservationWindow } from '../store/types.ts'
import type {
  BudgetSpec,
  BudgetWindow,
  ProviderBudgets,
  ProviderId,
  ProviderPacing,
} from '../providers/types.ts'
import { describeWindow, isTimeZone, windowAt } from './budget-windows.ts'
import {
  DEFAULT_REGAIN_MINUTES,
  MAX_PLATFORM_BACKOFF_MS,
  clampPlatformBackoffMs,
  logTime,
} from './platform-backoff.ts'

const HOUR = 3_600_000

/** The scope of a platform's app-wide budget and blocks (`instagram:app`). */
export const appScope = (platform: ProviderId): string => `${platform}:app`
/** The scope of one account's budget and blocks (`instagram:account:<id>`). */
export const accountScopeOf = (platform: ProviderId, accountId: string): string =>
  `${platform}:account:${accountId}`
/** Instagram's scopes (the only platform with a governor today). */
export const APP_SCOPE = appScope('instagram')
export const accountScope = (accountId: string): string => accountScopeOf('instagram', accountId)

export interface RateGovernorOptions {
  readonly store: Store
  readonly clock: Clock
  readonly logger: FastifyBaseLogger
  /** Whose calls: names the scopes and the messages. */
  readonly platform: ProviderId
  /** The platform's windows and costs (`capabilities.budgets`). */
  readonly budgets: ProviderBudgets
  /** Configured limits (by budget name) and the slow-down (`Config.providers.<id>.pacing`). */
  readonly pacing: ProviderPacing
  readonly sleep?: (ms: number) => Promise<void>
}

/** A declared budget as the governor reserves it. */
interface CountedBudget {
  /** Appended to the scope: `''` for the scope's first window, `:<name>` for the others. */
  readonly suffix: string
  readonly window: BudgetWindow
  /** Units per window (the configured limit, else the spec's); `null`: none. */
  readonly cap: number | null
  /** `null`: none declared for this scope (counted per rolling hour, uncapped, as always). */
  readonly spec: BudgetSpec | null
}

const UNCOUNTED: CountedBudget = {
  suffix: '',
  window: { kind: 'rolling', ms: HOUR },
  cap: null,
  spec: null,
}

/** The budgets of `per`, in declaration order; refuses what could never be counted. */
function countedBudgets(options: RateGovernorOptions, per: BudgetSpec['per']): CountedBudget[] {
  const specs = options.budgets.windows.filter((spec) => spec.per === per)
  if (specs.length === 0) return [UNCOUNTED]
  const names = new Set<string>()
  const costs = [options.budgets.defaultCost, ...Object.values(options.budgets.costs)]
  return specs.map((spec, i) => {
    if (names.has(spec.name))
      throw new Error(`${options.platform}: two ${per} budgets named "${spec.name}"`)
    names.add(spec.name)
    if (spec.window.kind !== 'rolling' && !isTimeZone(spec.window.timeZone))
      throw new Error(`${options.platform}: budget "${spec.name}": unknown time zone`)
    const cap = options.pacing.limits[spec.name] ?? spec.limit
    const dearest = Math.max(...costs)
    if (cap !== null && dearest > cap)
      throw new Error(
        `${options.platform}: a call costing ${dearest} units can never fit budget "${spec.name}" (${cap})`,
      )
    return { suffix: i === 0 ? '' : `:${spec.name}`, window: spec.window, cap, spec }
  })
}

/** The window of `budget` a reservation at `now` counts in. */
function reservationWindow(budget: CountedBudget, now: number): ReservationWindow {
  if (budget.window.kind === 'rolling') return budget.window
  const bounds = windowAt(budget.window, now)
  return { kind: 'fixed', start: bounds.start, end: bounds.end }
}

export interface RateGovernor {
  /**
   * Counts a call of `kind` (the sender's endpoint: it sets the cost; omitted: the default cost).
   * @throws ERR_RATE_LIMITED while blocked or when one of its budgets has no room left.
   */
  beforeCall(accountId: string | null, kind?: string, routine?: boolean): Promise<void>
  afterCall(accountId: string | null, info: CallReport<PlatformUsage>): Promise<void>
  /**
   * How close routine work for the account is to the limits: the highest usage percentage the
   * platform reported in the last hour (or the share spent of a quota we count), and, for a
   * quota with a reserve (YouTube's day), when routine work may go on if it is ahead of pace.
   */
  pressure(accountId: string): Promise<Pressure>
  /**
   * Units a day routine work may spend on the app-wide quota every call counts against (its cap
   * less the reserve; a monthly one by 30); `null` when the platform has none.
   */
  routineUnitsPerDay(): number | null
  /**
   * The app's capped quotas over fixed windows (YouTube's day, X's monthly post reads): what was
   * spent in the current window, the limit, routine work's share of it, and when it resets.
   */
  quotas(): Promise<QuotaStatus[]>
}

/** One quota as the operator sees it (`/readyz`, the jobs report). */
export interface QuotaStatus {
  readonly platform: string
  readonly name: string
  readonly window: 'daily' | 'monthly'
  readonly spent: number
  readonly limit: number
  /** What scheduled syncs may spend of it (the limit less its reserve). */
  readonly routine_limit: number
  readonly resets_at: string
}

export interface Pressure {
  readonly percent: number
  /**
   * Routine work is ahead of the pace that spreads a quota with a reserve evenly over its window
   * (or has spent its share): it waits until then. `null`: it may go on.
   */
  readonly waitUntil: number | null
}

/** Routine work may run ahead of the even pace by this share of its quota (at least 20 units). */
export const PACE_BURST_SHARE = 0.01

/**
 * When routine work that spent `spent` units of `routine` in the window `[start, end)` may go
 * on at `now`: `null` when it is within the even pace (plus a small burst), the window's end when
 * its share is spent, else the moment the pace catches up with what was spent.
 */
export function paceWaitUntil(
  window: { readonly start: number; readonly end: number },
  routine: number,
  spent: number,
  now: number,
): number | null {
  if (spent >= routine) return window.end
  const length = window.end - window.start
  const burst = Math.max(20, routine * PACE_BURST_SHARE)
  const allowed = (routine * (now - window.start)) / length + burst
  if (spent < allowed) return null
  const catchUp = window.start + ((spent - burst) / routine) * length
  return Math.min(window.end, Math.max(now + 1000, Math.ceil(catchUp)))
}

/** The units of `budget` routine work may spend per window (its cap less the reserve). */
function routineCap(budget: CountedBudget): number | null {
  const reserve = budget.spec?.reserve ?? 0
  if (budget.cap === null || reserve <= 0) return budget.cap
  return Math.floor(budget.cap * (1 - Math.min(1, reserve)))
}

/** "80 %": the share of a budget routine work may spend. */
function routineShareText(budget: CountedBudget): string {
  return `${Math.round(100 * (1 - Math.min(1, budget.spec?.reserve ?? 0)))} %`
}

/** "4 Instagram calls per hour" ("units" where calls cost different amounts). */
function budgetText(label: string, budget: CountedBudget, unit: string): string {
  const window = budget.spec === null ? 'per hour' : describeWindow(budget.spec.window)
  return `${budget.cap ?? 'unlimited'} ${label} ${unit} ${window}`
}

function minutesUntil(time: number, now: number): number {
  return Math.max(1, Math.ceil((time - now) / 60_000))
}

/**
 * "3 h 12 min", "1 min", "2 days 5 h": how long until `time`, rounded up (to the minute under a
 * day, to the hour beyond).
 */
export function durationText(time: number, now: number): string {
  const minutes = minutesUntil(time, now)
  if (minutes >= 1440) {
    const hours = Math.ceil(minutes / 60)
    const days = Math.floor(hours / 24)
    const rest = hours % 24
    return `${days} day${days === 1 ? '' : 's'}${rest > 0 ? ` ${rest} h` : ''}`
  }
  const hours = Math.floor(minutes / 60)
  const rest = minutes % 60
  if (hours > 0) return `${hours} h${rest > 0 ? ` ${rest} min` : ''}`
  return `${rest} min`
}

/** "Pacific time" for America/Los_Angeles; the zone's own name where Intl has no better one. */
export function zoneText(timeZone: string, instant: number): string {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longGeneric' })
    .formatToParts(new Date(instant))
    .find((part) => part.type === 'timeZoneName')?.value
  return name === undefined || name.startsWith('GMT') ? timeZone : name.replace(/ Time$/, ' time')
}

/**
 * "YouTube's daily quota of 10,000 units is used up; it resets at midnight Pacific time (in
 * 3 h 12 min)": a fixed window ran out, and when it comes back.
 */
function fixedRefusalText(
  owner: string,
  budget: CountedBudget,
  unit: string,
  retryAt: number,
  now: number,
): string {
  const window = budget.window
  if (window.kind === 'rolling') throw new Error('a rolling window has no reset')
  const zone = zoneText(window.timeZone, retryAt)
  const when = window.kind === 'daily' ? `at midnight ${zone}` : `on the 1st at midnight ${zone}`
  const cap = budget.cap === null ? 'unlimited' : budget.cap.toLocaleString('en-US')
  return `${owner} ${window.kind} quota of ${cap} ${unit} is used up; it resets ${when} (in ${durationText(retryAt, now)})`
}

export function createRateGovernor(options: RateGovernorOptions): RateGovernor {
  const { store, clock } = options
  const { slowDownPercent, maxPauseMs } = options.pacing
  const label = PLATFORMS[options.platform].label
  const appKey = appScope(options.platform)
  const accountOf = (accountId: string) => accountScopeOf(options.platform, accountId)
  const appBudgets = countedBudgets(options, 'app')
  const accountBudgets = countedBudgets(options, 'account')
  /** The app's budgets an account's call also spends (none on Instagram). */
  const appBudgetsOfEveryCall = appBudgets.filter((budget) => budget.spec?.counts === 'every_call')
  /** The capped fixed windows (a day, a month) whose spent share `pressure` reads. */
  const isCappedFixed = (budget: CountedBudget): boolean =>
    budget.window.kind !== 'rolling' && budget.cap !== null
  const fixedEveryCall = appBudgetsOfEveryCall.filter(isCappedFixed)
  const fixedPerAccount = accountBudgets.filter(isCappedFixed)
  const { costs, defaultCost } = options.budgets
  const unit =
    defaultCost === 1 && Object.values(costs).every((cost) => cost === 1) ? 'calls' : 'units'
  const costOf = (kind: string | undefined): number =>
    kind === undefined ? defaultCost : (costs[kind] ?? defaultCost)
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  /** Latest usage seen by this process, per scope, for pacing without a database read. */
  const recent = new Map<string, { percent: number; at: number }>()

  /** What this process last wrote per scope: unchanged usage is not written again and again. */
  const written = new Map<string, { percent: number; at: number }>()
  /**
   * Whether a reported usage is news for the store: a block, a first report, a move of 5 points or
   * across the slow-down threshold, or 30 s since the last write (every call from every worker
   * writing the app's row made it the busiest row in the database).
   */
  const worthWriting = (scope: string, percent: number | null, blocked: boolean, now: number) => {
    const last = written.get(scope)
    const news =
      blocked ||
      percent === null ||
      last === undefined ||
      Math.abs(percent - last.percent) >= 5 ||
      percent >= slowDownPercent !== last.percent >= slowDownPercent ||
      now - last.at >= 30_000
    if (news && percent !== null) {
      if (written.size >= 10_000) written.clear() // one entry per account: kept bounded
      written.set(scope, { percent, at: now })
    }
    return news
  }

  const recentPercent = (scope: string, now: number): number => {
    const seen = recent.get(scope)
    return seen === undefined || now - seen.at > HOUR ? 0 : seen.percent
  }

  /**
   * A stored block that ends further away than the bound (written before it existed, or by an
   * older instance) is rewritten once to end at `now + MAX_PLATFORM_BACKOFF_MS`, and logged.
   * Rewritten, not bounded at every read: a bound recomputed from `now` at each read would move
   * with the clock and never end. Once rewritten, the row is within the bound and left alone, so
   * two instances meeting it at nearly the same time agree. Returns when the blocks now end.
   */
  async function shortenStoredBlocks(
    scopes: readonly string[],
    retryAt: number,
    now: number,
  ): Promise<number> {
    const limit = now + MAX_PLATFORM_BACKOFF_MS
    if (retryAt <= limit) return retryAt
    for (const budget of await store.getApiBudgets(scopes)) {
      if (budget.blocked_until === null || budget.blocked_until <= limit) continue
      options.logger.warn(
        {
          scope: budget.scope,
          storedUntil: logTime(budget.blocked_until),
          clampedTo: logTime(limit),
        },
        `a stored ${label} block ended beyond the 24 h bound: shortened`,
      )
      // a scope that is blocked makes no calls, so nothing else writes this row meanwhile
      await store.recordApiUsage({
        scope: budget.scope,
        usagePercent: null,
        blockedUntil: limit,
        now,
      })
    }
    return limit
  }

  /** What a call spends: each budget with its owner, in the order of the reservation's parts. */
  function spentBy(
    accountId: string | null,
  ): { owner: 'app' | 'account'; budget: CountedBudget; scope: string }[] {
    return accountId === null
      ? appBudgets.map((budget) => ({ owner: 'app', budget, scope: appKey + budget.suffix }))
      : [
          ...accountBudgets.map((budget) => ({
            owner: 'account' as const,
            budget,
            scope: accountOf(accountId) + budget.suffix,
          })),
          ...appBudgetsOfEveryCall.map((budget) => ({
            owner: 'app' as const,
            budget,
            scope: appKey + budget.suffix,
          })),
        ]
  }

  return {
    async beforeCall(accountId, kind, routine = false) {
      const now = clock.now()
      const cost = costOf(kind)
      // a call the platform does not meter (YouTube's token and revoke endpoints, the Shorts
      // probe) spends nothing and is not held by a spent quota: a refresh still works at 100 %
      if (cost === 0) return
      const spent = spentBy(accountId)
      const verdict = await store.reserveApiCall({
        parts: spent.map(({ budget, scope }) => ({
          scope,
          window: reservationWindow(budget, now),
          cap: routine ? routineCap(budget) : budget.cap,
          cost,
        })),
        blockedBy: accountId === null ? [] : [appKey],
        now,
      })
      if (!verdict.allowed) {
        const retryAt =
          verdict.reason === 'blocked'
            ? await shortenStoredBlocks(
                accountId === null ? [appKey] : [accountOf(accountId), appKey],
                verdict.retryAt,
                now,
              )
            : verdict.retryAt
        const minutes = minutesUntil(retryAt, now)
        const wait = `about ${minutes} minute${minutes === 1 ? '' : 's'}`
        let message: string
        // a block that ends with a day (or month) we count: the platform said that quota is spent
        const spentQuota =
          verdict.reason === 'blocked'
            ? appBudgetsOfEveryCall.find((budget) => {
                const window = reservationWindow(budget, now)
                return window.kind === 'fixed' && Math.abs(window.end - retryAt) < 60_000
              })
            : undefined
        if (spentQuota !== undefined) {
          message = fixedRefusalText(`${label}'s`, spentQuota, unit, retryAt, now)
        } else if (verdict.reason === 'blocked') {
          message = `${label} rate limit reached; calls are paused for ${wait}`
        } else {
          const ran = spent[verdict.part] ?? spent[0]
          if (ran === undefined) throw new Error('a refusal names no budget')
          const reserved = routine && routineCap(ran.budget) !== ran.budget.cap
          message = reserved
            ? `Routine ${label} syncs used their ${routineShareText(ran.budget)} of the ${ran.budget.window.kind === 'monthly' ? 'month' : ran.budget.window.kind === 'daily' ? 'day' : 'window'}'s quota; the rest is kept for connecting and "Sync now". They resume in ${durationText(retryAt, now)}`
            : ran.budget.window.kind === 'rolling'
              ? `${ran.owner === 'app' ? 'The app' : 'This account'} used its budget of ${budgetText(label, ran.budget, unit)}; syncing continues in ${wait}`
              : fixedRefusalText(
                  ran.owner === 'app' ? `${label}'s` : "This account's",
                  ran.budget,
                  unit,
                  retryAt,
                  now,
                )
        }
        throw new GalleryError('ERR_RATE_LIMITED', message, {
          retryAfterSeconds: Math.ceil((retryAt - now) / 1000),
        })
      }
      const percent = Math.max(
        recentPercent(appKey, now),
        accountId === null ? 0 : recentPercent(accountOf(accountId), now),
      )
      if (percent >= slowDownPercent && maxPauseMs > 0) {
        const share = (percent - slowDownPercent) / Math.max(1, 100 - slowDownPercent)
        await sleep(Math.round(maxPauseMs * Math.min(1, share)))
      }
    },

    async afterCall(accountId, info) {
      const now = clock.now()
      // charged up front at its most (X: a full page of posts), the call cost less: give it back
      const overcharged = info.units === null ? 0 : costOf(info.endpoint) - Math.max(0, info.units)
      if (overcharged > 0)
        await store.refundApiCall({
          parts: spentBy(accountId).map(({ budget, scope }) => ({
            scope,
            window: reservationWindow(budget, now),
            units: overcharged,
          })),
          now,
        })
      const code = info.errorCode
      // the platform classified the answer (its codes stay in its folder)
      const appBlocked = info.throttled === 'app'
      const accountBlocked = info.throttled === 'account'
      // the parser bounds Meta's regain time already; bounded again here for any other source
      // how long: the platform's own words, else what its classification asked, else a default
      const pause = clampPlatformBackoffMs(
        info.usage.regainMinutes !== null
          ? info.usage.regainMinutes * 60_000
          : info.retryAfterSeconds !== null
            ? info.retryAfterSeconds * 1000
            : DEFAULT_REGAIN_MINUTES * 60_000,
      )
      const regainAt = now + pause.ms
      const askedMinutes =
        info.usage.regainMinutesClampedFrom ?? (pause.clamped ? info.usage.regainMinutes : null)
      if ((appBlocked || accountBlocked) && askedMinutes !== null) {
        // once per answer: the only place an answer's clamp is logged
        options.logger.warn(
          {
            accountId,
            code,
            endpoint: info.endpoint,
            askedMinutes,
            clampedMinutes: pause.ms / 60_000,
          },
          `${label} asked for a pause beyond the 24 h bound: clamped`,
        )
      }
      if (info.usage.appPercent !== null || appBlocked) {
        if (info.usage.appPercent !== null)
          recent.set(appKey, { percent: info.usage.appPercent, at: now })
        if (worthWriting(appKey, info.usage.appPercent, appBlocked, now))
          await store.recordApiUsage({
            scope: appKey,
            usagePercent: info.usage.appPercent,
            blockedUntil: appBlocked ? regainAt : null,
            now,
          })
      }
      if (accountId !== null && (info.usage.businessPercent !== null || accountBlocked)) {
        const scope = accountOf(accountId)
        if (info.usage.businessPercent !== null) {
          if (recent.size >= 10_000) recent.clear() // one entry per account: kept bounded
          recent.set(scope, { percent: info.usage.businessPercent, at: now })
        }
        if (worthWriting(scope, info.usage.businessPercent, accountBlocked, now))
          await store.recordApiUsage({
            scope,
            usagePercent: info.usage.businessPercent,
            blockedUntil: accountBlocked ? regainAt : null,
            now,
          })
      }
      if (appBlocked || accountBlocked) {
        options.logger.warn(
          { accountId, code, pausedMinutes: minutesUntil(regainAt, now) },
          `${label} throttled us: calls paused`,
        )
      }
    },

    routineUnitsPerDay() {
      let perDay: number | null = null
      for (const budget of appBudgetsOfEveryCall) {
        const cap = routineCap(budget)
        if (cap === null || budget.window.kind === 'rolling') continue
        const daily = budget.window.kind === 'daily' ? cap : cap / 30
        perDay = perDay === null ? daily : Math.min(perDay, daily)
      }
      return perDay
    },

    async quotas() {
      const now = clock.now()
      const fixed = appBudgets.filter(isCappedFixed)
      if (fixed.length === 0) return []
      const rows = await store.getApiBudgets(fixed.map((budget) => appKey + budget.suffix))
      return fixed.flatMap((budget): QuotaStatus[] => {
        const window = reservationWindow(budget, now)
        if (window.kind !== 'fixed' || budget.cap === null || budget.window.kind === 'rolling')
          return []
        const row = rows.find((r) => r.scope === appKey + budget.suffix)
        return [
          {
            platform: options.platform,
            name: budget.spec?.name ?? 'app',
            window: budget.window.kind,
            spent: row !== undefined && row.window_start === window.start ? row.window_calls : 0,
            limit: budget.cap,
            routine_limit: routineCap(budget) ?? budget.cap,
            resets_at: new Date(window.end).toISOString(),
          },
        ]
      })
    },

    async pressure(accountId) {
      const now = clock.now()
      const fixed = [
        ...fixedEveryCall.map((budget) => ({ budget, scope: appKey + budget.suffix })),
        ...fixedPerAccount.map((budget) => ({
          budget,
          scope: accountOf(accountId) + budget.suffix,
        })),
      ]
      const scopes = [...new Set([appKey, accountOf(accountId), ...fixed.map((f) => f.scope)])]
      const budgets = await store.getApiBudgets(scopes)
      let percent = 0
      for (const budget of budgets) {
        if (
          budget.usage_percent !== null &&
          budget.usage_at !== null &&
          now - budget.usage_at <= HOUR
        )
          percent = Math.max(percent, budget.usage_percent)
      }
      // a fixed window we count ourselves (YouTube's day): the share of it spent so far, and
      // routine work kept to an even pace over the window when part of it is held in reserve
      let waitUntil: number | null = null
      for (const { budget, scope } of fixed) {
        const row = budgets.find((b) => b.scope === scope)
        const window = reservationWindow(budget, now)
        if (window.kind !== 'fixed') continue
        const spent = row !== undefined && row.window_start === window.start ? row.window_calls : 0
        percent = Math.max(percent, (100 * spent) / Math.max(1, budget.cap ?? 1))
        const routine = routineCap(budget)
        if (routine === null || routine === budget.cap) continue
        const wait = paceWaitUntil(window, routine, spent, now)
        if (wait !== null) waitUntil = Math.max(waitUntil ?? 0, wait)
      }
      return { percent, waitUntil }
    },
  }
}
