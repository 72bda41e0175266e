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
 *   scheduler postpones routine syncs; a throttling code blocks the app (Meta code 4) or the
 *   account (17, 32, 613, 80002) until `estimated_time_to_regain_access` — at most 24 hours
 *   (`MAX_PLATFORM_BACKOFF_MS`, red team F4). A longer block already stored (written before that
 *   bound existed) is cut to 24 hours from when it is first met.
 *
 * The store counts rolling windows only (a sliding-window counter of one call per reservation):
 * a platform declaring a daily or monthly window, or costs other than 1, is refused at creation
 * until the store counts them (`socials/budget-windows.ts` has their arithmetic).
 *
 * @see shared/reference/instagram-api.md §3, §4
 */
import type { FastifyBaseLogger } from 'fastify'
import { GalleryError } from '../errors.ts'
import type { Clock } from '../clock.ts'
import type { Store } from '../store/types.ts'
import { DEFAULT_REGAIN_MINUTES, type CallInfo } from '../providers/instagram/client.ts'
import { PLATFORMS } from '../providers/registry.ts'
import type { BudgetSpec, ProviderBudgets, ProviderId, ProviderPacing } from '../providers/types.ts'
import { describeWindow } from './budget-windows.ts'
import { MAX_PLATFORM_BACKOFF_MS, clampPlatformBackoffMs, logTime } from './platform-backoff.ts'

const HOUR = 3_600_000

/** The scope of a platform's app-wide budget and blocks (`instagram:app`). */
export const appScope = (platform: ProviderId): string => `${platform}:app`
/** The scope of one account's budget and blocks (`instagram:account:<id>`). */
export const accountScopeOf = (platform: ProviderId, accountId: string): string =>
  `${platform}:account:${accountId}`
/** Instagram's scopes (the only platform with a governor today). */
export const APP_SCOPE = appScope('instagram')
export const accountScope = (accountId: string): string => accountScopeOf('instagram', accountId)

/** Code 4 is the app's limit; the others concern one account (user, page, custom, BUC). */
const APP_THROTTLE_CODES: ReadonlySet<number> = new Set([4])
const ACCOUNT_THROTTLE_CODES: ReadonlySet<number> = new Set([17, 32, 613, 80002])

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

/** A budget as the store counts it: a rolling window of `windowMs` and its cap (`null`: none). */
interface CountedBudget {
  readonly windowMs: number
  readonly cap: number | null
  readonly spec: BudgetSpec | null
}

/** The budget of `per` the store can count: one rolling window, every call costing 1. */
function countedBudget(options: RateGovernorOptions, per: BudgetSpec['per']): CountedBudget {
  const specs = options.budgets.windows.filter((spec) => spec.per === per)
  if (specs.length === 0) return { windowMs: HOUR, cap: null, spec: null }
  const [spec] = specs
  if (specs.length > 1 || spec === undefined || spec.window.kind !== 'rolling')
    throw new Error(
      `${options.platform}: the store counts one rolling window per ${per} scope (got ${specs.map((s) => s.window.kind).join(', ')})`,
    )
  if (
    options.budgets.defaultCost !== 1 ||
    Object.values(options.budgets.costs).some((cost) => cost !== 1)
  )
    throw new Error(`${options.platform}: the store counts one unit per call`)
  return { windowMs: spec.window.ms, cap: options.pacing.limits[spec.name] ?? spec.limit, spec }
}

export interface RateGovernor {
  /** @throws ERR_RATE_LIMITED while blocked or when the account's hourly cap is reached. */
  beforeCall(accountId: string | null): Promise<void>
  afterCall(accountId: string | null, info: CallInfo): Promise<void>
  /** The highest usage percentage the platform reported in the last hour for the app or the account. */
  pressure(accountId: string): Promise<number>
}

/** "4 Instagram calls per hour". */
function budgetText(label: string, budget: CountedBudget): string {
  const window = budget.spec === null ? 'per hour' : describeWindow(budget.spec.window)
  return `${budget.cap ?? 'unlimited'} ${label} calls ${window}`
}

function minutesUntil(time: number, now: number): number {
  return Math.max(1, Math.ceil((time - now) / 60_000))
}

export function createRateGovernor(options: RateGovernorOptions): RateGovernor {
  const { store, clock } = options
  const { slowDownPercent, maxPauseMs } = options.pacing
  const label = PLATFORMS[options.platform].label
  const appKey = appScope(options.platform)
  const accountOf = (accountId: string) => accountScopeOf(options.platform, accountId)
  const appBudget = countedBudget(options, 'app')
  const accountBudget = countedBudget(options, 'account')
  const overBudget = (budget: CountedBudget) => budgetText(label, budget)
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

  return {
    async beforeCall(accountId) {
      const now = clock.now()
      const verdict = await store.reserveApiCall(
        accountId === null
          ? {
              scope: appKey,
              blockedBy: [],
              cap: appBudget.cap,
              windowMs: appBudget.windowMs,
              now,
            }
          : {
              scope: accountOf(accountId),
              blockedBy: [appKey],
              cap: accountBudget.cap,
              windowMs: accountBudget.windowMs,
              now,
            },
      )
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
        throw new GalleryError(
          'ERR_RATE_LIMITED',
          verdict.reason === 'blocked'
            ? `${label} rate limit reached; calls are paused for ${wait}`
            : `${accountId === null ? 'The app' : 'This account'} used its budget of ${overBudget(accountId === null ? appBudget : accountBudget)}; syncing continues in ${wait}`,
          { retryAfterSeconds: Math.ceil((retryAt - now) / 1000) },
        )
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
      const code = info.errorCode
      const appBlocked = code !== null && APP_THROTTLE_CODES.has(code)
      const accountBlocked = code !== null && ACCOUNT_THROTTLE_CODES.has(code)
      // the parser bounds Meta's regain time already; bounded again here for any other source
      const pause = clampPlatformBackoffMs(
        (info.usage.regainMinutes ?? DEFAULT_REGAIN_MINUTES) * 60_000,
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

    async pressure(accountId) {
      const now = clock.now()
      const budgets = await store.getApiBudgets([appKey, accountOf(accountId)])
      let percent = 0
      for (const budget of budgets) {
        if (
          budget.usage_percent !== null &&
          budget.usage_at !== null &&
          now - budget.usage_at <= HOUR
        )
          percent = Math.max(percent, budget.usage_percent)
      }
      return percent
    },
  }
}
