/**
 * @module socials/sync-service — pulls an account's media from its platform into the store
 * (the account's entry in `connections`: its client, governor and capabilities).
 *
 * Three kinds of run:
 * - **incremental** (the hourly routine): the profile, then `/me/media` newest first, stopping at
 *   the first page that holds media already stored. An unchanged account costs 2 calls.
 * - **full** reconciliation (daily, on "Sync now", and before stored media URLs expire): every
 *   page, then media not seen are deleted (deletions and edits on Instagram reach the gallery).
 * - **resume**: a full run interrupted (throttled, Instagram down, process killed) continues from
 *   the paging cursor stored after its last page, with the same run id, so nothing is fetched
 *   twice without need and deletions still see the whole run.
 *
 * Each page is stored in its own transaction as it arrives; a run holds the account's sync lease,
 * owned by the run (`<instance id>:<run id>`, `src/store/leases.ts`), so one instance at a time
 * syncs an account, and within a process concurrent requests share one run. A heartbeat renews
 * the lease every third of its length while the run works, and every write the run makes — each
 * page, its progress, the deletion of media not seen, the outcome — is conditional on still
 * owning it: a run that stalled past its lease and was taken over writes nothing more and above
 * all deletes nothing (review D1). Every outcome sets the account's status, the next scheduled
 * sync (jittered interval, or backoff after a failure) and releases the lease — only its own.
 *
 * `stop()` (graceful shutdown): no new run starts, and a running one stops before its next page,
 * releasing its lease and keeping its progress, so the next run resumes where it stopped.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { GalleryError, isGalleryError } from '../errors.ts'
import type { Clock } from '../clock.ts'
import type { FernetKeyRing } from '../crypto/fernet.ts'
import type {
  AccountPatch,
  AccountStatus,
  HeldLease,
  SyncLoad,
  SocialAccountRecord,
  Store,
} from '../store/types.ts'
import { leaseOwner, newInstanceId, startHeartbeat, type Heartbeat } from '../store/leases.ts'
import type { Credentials, ListOptions, MediaRead, ProviderMediaPage } from '../providers/types.ts'
import type { WebhookNotifier } from '../webhooks/webhooks.ts'
import type { Connections } from './connections.ts'
import { createRefresher } from './refresher.ts'
import { backoffMs, withJitter } from './account-health.ts'
import { clampPlatformBackoffMs } from './platform-backoff.ts'
import { planSyncs, type SyncPlan } from './sync-plan.ts'
import type { PlatformConnection } from './connections.ts'

/** How long a platform's plan stands before its load is read again. */
const PLAN_TTL_MS = 5 * 60_000
const DAY_MS = 86_400_000

export type SyncMode = 'incremental' | 'full' | 'resume'

export interface SyncResult {
  readonly mode: SyncMode
  readonly added: number
  readonly updated: number
  /** Media whose only change was fresh URLs. */
  readonly refreshed: number
  readonly removed: number
  readonly pages: number
  readonly api_calls: number
}

/** What `refreshMediaUrls` did. */
export interface MediaUrlRefresh {
  /** Media rows whose URLs changed. */
  readonly refreshed: number
  /**
   * Which of the media ids asked for the platform no longer has: left for the next full
   * reconciliation, which removes them (nothing is deleted here).
   */
  readonly missing: readonly string[]
  readonly api_calls: number
}

export interface SyncSchedule {
  /** Routine sync period (jittered ±10 %). */
  readonly intervalMs: number
  /** Full reconciliation period. */
  readonly fullIntervalMs: number
  /** Refresh stored media URLs this long before the earliest one expires. */
  readonly urlRefreshMarginMs: number
  /** The token renewal margin (an account inside it is `refresh_due`). */
  readonly renewMarginMs: number
}

export interface SyncServiceDeps {
  readonly store: Store
  readonly vault: FernetKeyRing
  readonly clock: Clock
  readonly logger: FastifyBaseLogger
  /** The configured platforms: an account's client and governor are its platform's entry. */
  readonly connections: Connections
  /** What a sync of an unconfigured platform's account answers (the variables to set). */
  readonly notConfiguredMessage: (platform: string) => string
  readonly webhooks: WebhookNotifier
  readonly schedule: SyncSchedule
  /** This instance's id: the first half of every lease owner (default: a fresh one). */
  readonly instanceId?: string
  /** How long a run holds the account without renewing its lease before another may take over. */
  readonly leaseMs?: number
  /** Safety bound on pages per run (at 100 per page, 100k media). */
  readonly maxPages?: number
  readonly random?: () => number
}

/**
 * How long a sync lease lasts without renewal (the heartbeat renews it every third of this)
 * before another worker may take the account.
 */
export const SYNC_LEASE_MS = 5 * 60_000

/** The message of a refusal while this instance stops. */
export const STOPPING_MESSAGE = 'This instance is shutting down; try again in a moment'

/** Thrown inside a run once its lease is found held by someone else: nothing more is written. */
class LeaseLost extends Error {}
/** Thrown inside a run when the service stops: the run releases its lease and keeps its place. */
class Stopping extends Error {}

function conflictError(): GalleryError {
  return new GalleryError(
    'ERR_CONFLICT',
    'This account is being synced right now; its media will appear in a moment',
  )
}

function stoppingError(): GalleryError {
  return new GalleryError('ERR_SHUTTING_DOWN', STOPPING_MESSAGE, { retryAfterSeconds: 5 })
}

const STATUS_FOR_ERROR: Partial<Record<GalleryError['code'], AccountStatus>> = {
  ERR_REAUTH_REQUIRED: 'reauth_required',
  ERR_RATE_LIMITED: 'rate_limited',
  ERR_PROVIDER_UNAVAILABLE: 'degraded',
}

export interface SyncService {
  /**
   * "Sync now": a full reconciliation (or the resumption of an interrupted one) of one account
   * of `userId`. @throws ERR_NOT_FOUND for another user's account, ERR_CONFLICT while another
   * instance is syncing it.
   */
  syncAccount(userId: string, accountId: string): Promise<SyncResult>
  /**
   * A scheduled sync of an account whose lease the caller already holds (`claimDueSyncs`).
   * Resolves to `null` when the sync was postponed (Instagram usage above the slow-down mark).
   */
  syncClaimed(account: SocialAccountRecord, onCall?: () => void): Promise<SyncResult | null>
  /**
   * Reads these media items (our ids, top level or album children, of `accountId`) again from
   * their platform by id and stores their current URLs (`media_url`, `thumbnail_url`,
   * children's), so a signed URL that expired works again without a whole sync. Under a sync's
   * rules: the credentials come through the refresher (renewed first when due), every call asks
   * the rate governor's budget (as routine work), and an account that needs a reconnect
   * (`reauth_required`, `revoked`) is not called. Ids of other accounts are ignored.
   * @throws ERR_REAUTH_REQUIRED ("<Platform> needs you to reconnect @name"), ERR_RATE_LIMITED
   *   (the budget is spent), ERR_NOT_CONFIGURED (the platform is not configured here, or cannot
   *   read posts by id), ERR_NOT_FOUND, or the platform's failure.
   */
  refreshMediaUrls(
    userId: string,
    accountId: string,
    mediaIds: readonly string[],
  ): Promise<MediaUrlRefresh>
  /** Whether `platform`'s media URLs are signed (they expire) and can be read again by id. */
  signsMediaUrls(platform: string): boolean
  /**
   * Graceful stop: new runs are refused (ERR_STORE, 503), running ones stop before their next
   * page, release their lease and keep their progress for the next run to resume.
   */
  stop(): void
  /** Resolves when no run of this service is in flight. */
  idle(): Promise<void>
  /**
   * Why some platform's accounts cannot all be refreshed within 30 days at its quota (the latest
   * plans this instance made); empty when every plan holds.
   */
  scheduleWarnings(): { platform: string; message: string }[]
}

export function createSyncService(deps: SyncServiceDeps): SyncService {
  const { store, clock, schedule } = deps
  const inFlight = new Map<string, Promise<SyncResult | null>>()
  const maxPages = deps.maxPages ?? 1000
  const leaseMs = deps.leaseMs ?? SYNC_LEASE_MS
  const random = deps.random ?? Math.random
  const instanceId = deps.instanceId ?? newInstanceId()
  const refresher = createRefresher({
    ...deps,
    instanceId,
    labelOf: (platform) => deps.connections.get(platform)?.label ?? platform,
    expiredMessageOf: (platform) => deps.connections.get(platform)?.expiredMessage,
  })
  let stopping = false

  /** Each platform's plan, recomputed every few minutes from its load (`sync-plan.ts`). */
  const plans = new Map<string, { plan: SyncPlan; load: SyncLoad; at: number }>()

  async function planOf(
    connection: PlatformConnection,
  ): Promise<{ plan: SyncPlan; load: SyncLoad }> {
    const now = clock.now()
    const known = plans.get(connection.platform)
    if (known !== undefined && now - known.at < PLAN_TTL_MS && now >= known.at) return known
    const load = await store.syncLoad(connection.platform, now)
    const plan = planSyncs({
      accounts: load.accounts,
      posts: load.posts,
      routineUnitsPerDay: connection.governor.routineUnitsPerDay(),
      cost: connection.capabilities.budgets.syncCost ?? null,
      intervalMs: schedule.intervalMs,
      fullIntervalMs: schedule.fullIntervalMs,
    })
    if (plan.warning !== null && plan.warning !== known?.plan.warning)
      deps.logger.warn({ platform: connection.platform, ...load }, plan.warning)
    else if (plan.stretched && !(known?.plan.stretched ?? false))
      deps.logger.info(
        {
          platform: connection.platform,
          ...load,
          intervalHours: Math.round(plan.intervalMs / 36_000) / 100,
          fullIntervalDays: Math.round(plan.fullIntervalMs / 864_000) / 100,
        },
        `${connection.label} sync intervals stretched to fit the daily quota`,
      )
    const entry = { plan, load, at: now }
    plans.set(connection.platform, entry)
    return entry
  }

  function chooseMode(
    account: SocialAccountRecord,
    manual: boolean,
    now: number,
    plan: SyncPlan,
  ): SyncMode {
    if (account.sync_run_id !== null) return 'resume'
    if (manual || account.last_full_sync === null) return 'full'
    if (now - account.last_full_sync >= plan.fullIntervalMs) return 'full'
    const urls = account.media_urls_expire_at
    // the earliest URLs were fetched by the last full run (which re-reads every post)
    if (urls !== null && urls - now <= urlMargin(urls, account.last_full_sync ?? now)) return 'full'
    return 'incremental'
  }

  /**
   * How long before signed media URLs expire they are refreshed: the configured margin, or a
   * third of their lifetime when they live shorter (TikTok's covers last about 6 hours,
   * Instagram's days): short-lived URLs are not refreshed at every run.
   */
  function urlMargin(expiresAt: number, fetchedAt: number): number {
    return Math.min(schedule.urlRefreshMarginMs, Math.max(0, (expiresAt - fetchedAt) / 3))
  }

  /**
   * The next routine sync: the jittered interval, or earlier if media URLs expire before it —
   * but never sooner than a quarter of the interval, even if a provider's URLs live shorter than
   * the refresh margin (the page still swaps an expired image for a placeholder and a refresh).
   */
  function nextSyncAt(
    now: number,
    urlsExpireAt: number | null,
    plan: SyncPlan,
    urlsFetchedAt: number,
  ): number {
    // a stretched plan runs close to the quota: a wide jitter would bunch some accounts up
    const routine = now + withJitter(plan.intervalMs, plan.stretched ? 0.01 : 0.1, random)
    if (urlsExpireAt === null) return routine
    const beforeExpiry = urlsExpireAt - urlMargin(urlsExpireAt, urlsFetchedAt)
    return Math.max(now + plan.intervalMs / 4, Math.min(routine, beforeExpiry))
  }

  /** The outcome and the release, only while this run holds the lease; else it is lost. */
  async function release(
    lease: HeldLease,
    heartbeat: Heartbeat,
    patch: Omit<AccountPatch, 'now' | 'sync_lease_until'>,
  ): Promise<void> {
    heartbeat.stop()
    // a release that makes the account reauth_required writes its event with it (the outbox)
    const events = deps.webhooks.events
    if (!(await store.releaseSyncLease(lease, { ...patch, now: clock.now() }, events))) {
      heartbeat.lose()
      throw new LeaseLost()
    }
    if (patch.status === 'reauth_required') deps.webhooks.deliverSoon()
  }

  async function fail(
    account: SocialAccountRecord,
    lease: HeldLease,
    heartbeat: Heartbeat,
    error: GalleryError,
    progress: { calls: number; keepRun: boolean },
  ): Promise<never> {
    const now = clock.now()
    const status = STATUS_FOR_ERROR[error.code] ?? 'error'
    const failures = account.sync_failures + 1
    // a throttled sync waits as long as Instagram said, but never beyond the 24 h bound (red team
    // F4): the parser and the governor bound it already, this is the last word on next_sync_at
    const asked = clampPlatformBackoffMs((error.retryAfterSeconds ?? 0) * 1000)
    if (status === 'rate_limited' && asked.clamped) {
      deps.logger.warn(
        {
          accountId: account.id,
          retryAfterSeconds: error.retryAfterSeconds,
          clampedSeconds: asked.ms / 1000,
        },
        'sync retry time beyond the 24 h bound: clamped',
      )
    }
    const retryAfterMs =
      status === 'rate_limited' && error.retryAfterSeconds !== undefined
        ? asked.ms
        : backoffMs(failures)
    await release(lease, heartbeat, {
      status,
      status_message: error.message,
      sync_failures: failures,
      // reauth_required waits for a reconnect (which reschedules); the others retry later
      next_sync_at: status === 'reauth_required' ? null : now + retryAfterMs,
      ...(progress.keepRun ? {} : { sync_run_id: null, sync_cursor: null }),
    })
    deps.logger.warn(
      { accountId: account.id, code: error.code, status, api_calls: progress.calls, err: error },
      'sync failed',
    )
    throw error
  }

  /** A run under `lease`, with its heartbeat; a lost lease ends it without another write. */
  async function run(
    account: SocialAccountRecord,
    lease: HeldLease,
    manual: boolean,
    onCall: (() => void) | undefined,
  ): Promise<SyncResult | null> {
    const heartbeat = startHeartbeat({
      clock,
      leaseMs,
      renew: (leaseUntil) => store.renewAccountLease('sync', lease, leaseUntil),
      onError: (error) =>
        deps.logger.warn({ accountId: account.id, err: error }, 'sync lease renewal failed'),
    })
    try {
      return await runHolding(account, lease, heartbeat, manual, onCall)
    } catch (error) {
      if (error instanceof LeaseLost || heartbeat.lost) {
        deps.logger.warn(
          { accountId: account.id, owner: lease.owner },
          'sync lease lost to another run: stopped without writing more',
        )
        throw conflictError()
      }
      throw error
    } finally {
      heartbeat.stop()
    }
  }

  async function runHolding(
    account: SocialAccountRecord,
    lease: HeldLease,
    heartbeat: Heartbeat,
    manual: boolean,
    onCall: (() => void) | undefined,
  ): Promise<SyncResult | null> {
    /** Before each step: stop if the lease was lost or the service is stopping. */
    const step = (): void => {
      if (heartbeat.lost) throw new LeaseLost()
      if (stopping) throw new Stopping()
    }
    const connection = deps.connections.get(account.platform)
    if (connection === undefined) {
      await release(lease, heartbeat, { next_sync_at: clock.now() + schedule.intervalMs })
      throw new GalleryError('ERR_NOT_CONFIGURED', deps.notConfiguredMessage(account.platform))
    }
    const { makeClient, governor, label } = connection
    let calls = 0
    if (account.status === 'revoked') {
      // no token: the scheduler never claims it; a reconnect schedules it again
      await release(lease, heartbeat, { next_sync_at: null })
      throw new GalleryError(
        'ERR_REAUTH_REQUIRED',
        `Access to this account was removed on ${label}; reconnect it`,
      )
    }
    const { plan, load } = await planOf(connection)
    const mode = chooseMode(account, manual, clock.now(), plan)
    if (!manual) {
      const pressure = await governor.pressure(account.id)
      const now = clock.now()
      let until: number | null = null
      if (pressure.waitUntil !== null) {
        // ahead of the day's even pace (or its routine share is spent): the accounts due now
        // spread over the time the quota needs for them, rather than all coming back at once
        const perMs = (governor.routineUnitsPerDay() ?? 0) / DAY_MS
        const cost = connection.capabilities.budgets.syncCost?.unchanged ?? 1
        const drain = perMs > 0 ? Math.min(plan.intervalMs, (load.due * cost) / perMs) : 0
        until = pressure.waitUntil + Math.round(random() * drain)
      } else if (mode === 'incremental' && pressure.percent >= connection.slowDownPercent) {
        // the platform says we are close to its limit: routine work waits, nothing is lost
        until = now + plan.intervalMs
      }
      if (until !== null) {
        await release(lease, heartbeat, { next_sync_at: until })
        deps.logger.info(
          {
            accountId: account.id,
            pressure: pressure.percent,
            until: new Date(until).toISOString(),
          },
          'routine sync postponed',
        )
        return null
      }
    }

    const client = makeClient({
      accountId: account.id,
      // a scheduled run may not spend what a platform keeps for people waiting (YouTube's 20 %)
      routine: !manual,
      onCall: () => {
        calls++
        onCall?.()
      },
    })
    let credentials: Credentials
    try {
      // refreshed first when the platform's policy says so (single flight across instances)
      credentials = await refresher.credentialsFor(account, client)
    } catch (error) {
      if (!isGalleryError(error)) throw error
      return fail(account, lease, heartbeat, error, { calls, keepRun: true })
    }
    const runId = mode === 'resume' ? (account.sync_run_id ?? randomUUID()) : randomUUID()
    const fullRun = mode !== 'incremental'
    // a listing that sees only a window of posts cannot tell deleted ones from old ones
    const reconciles = fullRun && client.capabilities.listingCoverage === 'complete'
    let added = 0
    let updated = 0
    let refreshed = 0
    let pages = 0
    /** Writes progress under the lease (and renews it); a lost lease ends the run. */
    const progress = async (columns: { sync_run_id?: string; sync_cursor?: string | null }) => {
      const now = clock.now()
      if (
        !(await store.recordSyncProgress(lease, { ...columns, leaseUntil: now + leaseMs, now }))
      ) {
        heartbeat.lose()
        throw new LeaseLost()
      }
      heartbeat.renewed()
    }
    /**
     * A call with the run's credentials. Refused as unauthorized (Google's 401 before the token's
     * hour is up: revoked access tokens, a password change) on a platform with refresh tokens,
     * they are refreshed once and the call made again; a second refusal stands.
     */
    let refreshedOnce = false
    const authorized = async <T>(fn: (current: Credentials) => Promise<T>): Promise<T> => {
      try {
        return await fn(credentials)
      } catch (error) {
        if (
          refreshedOnce ||
          !isGalleryError(error) ||
          error.code !== 'ERR_REAUTH_REQUIRED' ||
          client.capabilities.renewal.kind !== 'refresh_token'
        )
          throw error
        refreshedOnce = true
        const fresh = await refresher.credentialsFor(account, client, credentials)
        if (fresh.accessToken === credentials.accessToken) throw error
        deps.logger.info({ accountId: account.id }, 'access token refused: refreshed once')
        credentials = fresh
        return fn(credentials)
      }
    }
    try {
      step()
      if (mode === 'full') await progress({ sync_run_id: runId, sync_cursor: null })
      const lookup = await authorized((current) => client.fetchIdentity(current))
      if (!lookup.ok)
        // the channel (or professional account) is gone since the connection was made
        throw new GalleryError(
          'ERR_REAUTH_REQUIRED',
          `${connection.label} no longer shows an account to sync for this connection; reconnect it`,
        )
      const identity = lookup.identity
      step()
      // a routine run stops at stored posts: a platform that reads details in a metered call
      // of its own need not read those; a full run reads everything
      const listOptions: ListOptions = {
        stored: (ids) => store.storedMediaHints(account.id, ids),
        skipStored: !fullRun,
        ...(fullRun ? {} : { newestStored: () => store.newestMediaId(account.id) }),
      }
      let page: ProviderMediaPage = await authorized((current) =>
        client.listMedia(current, mode === 'resume' ? account.sync_cursor : null, listOptions),
      )
      for (;;) {
        pages++
        if (heartbeat.lost) throw new LeaseLost()
        const result = await store.upsertMediaPage(
          account,
          runId,
          page.items,
          clock.now(),
          lease.owner,
        )
        if (result === null) {
          heartbeat.lose()
          throw new LeaseLost()
        }
        added += result.added
        updated += result.updated
        refreshed += result.refreshed
        const next = page.nextCursor
        const more = next !== null && (fullRun || result.known + page.skippedStored === 0)
        // progress and the lease: a run interrupted after this point resumes after this page
        await progress(fullRun && more ? { sync_cursor: next } : {})
        if (!more || next === null) break
        if (pages >= maxPages)
          throw new GalleryError(
            'ERR_PROVIDER_RESPONSE',
            `${label} returned more than ${maxPages} pages of media; sync stopped`,
          )
        step()
        page = await authorized((current) => client.listMedia(current, next, listOptions))
      }
      let removed = 0
      if (reconciles) {
        step()
        const deleted = await store.removeMediaNotSeen(account.id, runId, lease.owner)
        if (deleted === null) {
          heartbeat.lose()
          throw new LeaseLost()
        }
        removed = deleted
      }
      const summary = await store.summarizeMedia(account.id)
      const now = clock.now()
      let lastFullSync = fullRun ? now : account.last_full_sync
      if (
        !fullRun &&
        identity.mediaCount !== null &&
        identity.mediaCount !== summary.count &&
        lastFullSync !== null &&
        now - lastFullSync >= schedule.fullIntervalMs / 4
      ) {
        // Instagram counts a different number of posts: something older changed or went away,
        // so reconcile at the next run (at most four times per full interval)
        lastFullSync = null
      }
      await release(lease, heartbeat, {
        last_sync: now,
        last_full_sync: lastFullSync,
        posts_count: identity.mediaCount ?? summary.count,
        media_urls_expire_at: summary.urlsExpireAt,
        next_sync_at: nextSyncAt(now, summary.urlsExpireAt, plan, lastFullSync ?? now),
        sync_failures: 0,
        sync_run_id: null,
        sync_cursor: null,
      })
      // the status is decided on the row as it is now: a renewal, a revocation or a failing
      // renewal may have happened while this run was going on (after the release, which applied
      // only while this run still held the lease)
      await store.markHealthy(account.id, now + schedule.renewMarginMs, now)
      const report: SyncResult = {
        mode,
        added,
        updated,
        refreshed,
        removed,
        pages,
        api_calls: calls,
      }
      deps.logger.info({ accountId: account.id, ...report }, 'sync finished')
      return report
    } catch (error) {
      if (error instanceof LeaseLost) throw error
      if (error instanceof Stopping) {
        // the progress stored so far stands: the next run resumes after the last stored page
        await release(lease, heartbeat, { next_sync_at: clock.now() })
        deps.logger.info({ accountId: account.id, pages }, 'sync stopped by shutdown')
        throw stoppingError()
      }
      const failure = isGalleryError(error)
        ? error
        : new GalleryError('ERR_INTERNAL', 'Sync failed unexpectedly', { cause: error })
      // a bad answer (e.g. a cursor Instagram no longer knows) restarts the run from the top;
      // throttling, outages and expired tokens keep it to resume where it stopped
      const keepRun = fullRun && failure.code !== 'ERR_PROVIDER_RESPONSE'
      return fail(account, lease, heartbeat, failure, { calls, keepRun })
    }
  }

  /** One run per account in this process; `acquireLease` when the caller holds no lease yet. */
  function once(
    account: SocialAccountRecord,
    manual: boolean,
    acquireLease: boolean,
    onCall?: () => void,
  ): Promise<SyncResult | null> {
    const running = inFlight.get(account.id)
    if (running !== undefined) return running
    const start = async (): Promise<SyncResult | null> => {
      if (stopping) throw stoppingError()
      const now = clock.now()
      let owner = account.sync_lease_owner
      if (acquireLease) {
        owner = leaseOwner(instanceId)
        if (!(await store.acquireSyncLease(account.id, now, now + leaseMs, owner)))
          throw conflictError()
      }
      if (owner === null) throw new Error('syncClaimed: the account carries no lease owner')
      return run(account, { accountId: account.id, owner }, manual, onCall)
    }
    const promise = start().finally(() => inFlight.delete(account.id))
    inFlight.set(account.id, promise)
    return promise
  }

  async function refreshMediaUrls(
    userId: string,
    accountId: string,
    mediaIds: readonly string[],
  ): Promise<MediaUrlRefresh> {
    if (stopping) throw stoppingError()
    const account = await store.getAccount(userId, accountId)
    if (account === null) throw new GalleryError('ERR_NOT_FOUND', 'Account not found')
    const connection = deps.connections.get(account.platform)
    if (connection === undefined)
      throw new GalleryError('ERR_NOT_CONFIGURED', deps.notConfiguredMessage(account.platform))
    const { label } = connection
    const reconnect = (cause?: unknown) =>
      new GalleryError(
        'ERR_REAUTH_REQUIRED',
        `${label} needs you to reconnect @${account.username}`,
        cause === undefined ? {} : { cause },
      )
    if (account.account_type === 'public')
      throw new GalleryError(
        'ERR_VALIDATION',
        `@${account.username} is a public profile link: its media are not read from ${label}`,
      )
    if (account.status === 'revoked' || account.status === 'reauth_required') throw reconnect()
    const states = (await store.mediaUrlStates(mediaIds)).filter((m) => m.account_id === account.id)
    if (states.length === 0) return { refreshed: 0, missing: [], api_calls: 0 }
    let calls = 0
    const client = connection.makeClient({
      accountId: account.id,
      routine: true,
      onCall: () => {
        calls++
      },
    })
    if (client.readMedia === undefined)
      throw new GalleryError('ERR_NOT_CONFIGURED', `${label} cannot read posts again by id`)
    const platformIds = [...new Set(states.map((m) => m.platform_media_id))]
    const read = async (current: Credentials): Promise<MediaRead> => {
      const found = await client.readMedia?.(current, platformIds)
      if (found === undefined) throw new Error('readMedia vanished from the client')
      return found
    }
    let credentials: Credentials
    try {
      credentials = await refresher.credentialsFor(account, client)
    } catch (error) {
      if (isGalleryError(error) && error.code === 'ERR_REAUTH_REQUIRED') throw reconnect(error)
      throw error
    }
    let found: MediaRead
    try {
      found = await read(credentials)
    } catch (error) {
      if (!isGalleryError(error) || error.code !== 'ERR_REAUTH_REQUIRED') throw error
      // as a sync does: refused before its time on a refresh-token platform, refreshed once
      if (client.capabilities.renewal.kind !== 'refresh_token') throw reconnect(error)
      let fresh: Credentials
      try {
        fresh = await refresher.credentialsFor(account, client, credentials)
      } catch (again) {
        throw isGalleryError(again) && again.code === 'ERR_REAUTH_REQUIRED'
          ? reconnect(again)
          : again
      }
      if (fresh.accessToken === credentials.accessToken) throw reconnect(error)
      try {
        found = await read(fresh)
      } catch (again) {
        throw isGalleryError(again) && again.code === 'ERR_REAUTH_REQUIRED'
          ? reconnect(again)
          : again
      }
    }
    const refreshed = await store.refreshMediaUrls(account.id, found.items, clock.now())
    const gone = new Set(found.missingIds)
    const missing = states.filter((m) => gone.has(m.platform_media_id)).map((m) => m.id)
    deps.logger.info(
      {
        accountId: account.id,
        asked: platformIds.length,
        refreshed,
        missing: missing.length,
        api_calls: calls,
      },
      'media URLs read again',
    )
    return { refreshed, missing, api_calls: calls }
  }

  return {
    refreshMediaUrls,
    signsMediaUrls(platform) {
      const connection = deps.connections.get(platform)
      return connection?.capabilities.mediaUrls === 'signed'
    },
    async syncAccount(userId, accountId) {
      const account = await store.getAccount(userId, accountId)
      if (account === null) throw new GalleryError('ERR_NOT_FOUND', 'Account not found')
      if (account.account_type === 'public') {
        throw new GalleryError(
          'ERR_VALIDATION',
          'Public profile links are not synced; connect the account with Instagram to sync its media',
        )
      }
      // joining a routine run that was postponed: this request still wants its sync
      const result = (await once(account, true, true)) ?? (await once(account, true, true))
      if (result === null) throw new GalleryError('ERR_INTERNAL', 'Sync was postponed')
      return result
    },
    async syncClaimed(account, onCall) {
      return once(account, false, false, onCall)
    },
    stop() {
      stopping = true
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight.values()])
    },
    scheduleWarnings() {
      return [...plans].flatMap(([platform, { plan }]) =>
        plan.warning === null ? [] : [{ platform, message: plan.warning }],
      )
    },
  }
}
