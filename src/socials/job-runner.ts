/**
 * @module socials/job-runner — everything that is due, in one call: used by the in-process
 * scheduler (main.ts) and by `POST /internal/jobs/run-due` (Cloud Scheduler).
 *
 * 1. Renew due tokens (and mark expired ones).
 * 2. Sync the accounts whose next sync time has come, `concurrency` at a time. Each claim takes
 *    the account's database lease, so any number of runners — in one process or many — never
 *    sync one account twice at once. A next sync time further out than this version ever
 *    schedules (`MAX_SYNC_DELAY_MS`: stored before the 24 h back-off bound, red team F4) counts
 *    as due: the store's claim takes such accounts, and the sync writes a sane time.
 * 3. Deliver due webhooks, and retry the revocations a disconnect could not make at once.
 * 4. Purge what nobody needs (at most hourly): expired sessions and OAuth states, accounts
 *    revoked longer than the retention period, old webhook deliveries, idle budget rows.
 *
 * Within one runner, concurrent `runDue` calls share one run.
 *
 * Every claim names its owner, `<instance id>:<run id>` (`src/store/leases.ts`). `stop()` is the
 * graceful stop: no new pass starts (ERR_STORE, 503), the running pass claims nothing more, and
 * its in-flight work gets until a deadline; the caller then releases this instance's leases.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../clock.ts'
import { KNOWN_DEVICE_LIFETIME_MS } from '../http/session.ts'
import type { Archiver, ArchiveReport } from '../archive/archiver.ts'
import type { PurgeReport, Store } from '../store/types.ts'
import { leaseOwner, newInstanceId } from '../store/leases.ts'
import { GalleryError } from '../errors.ts'
import type { DeliveryReport, WebhookNotifier } from '../webhooks/webhooks.ts'
import type { RenewalReport, RenewalService } from './renewal-service.ts'
import { drainClaims } from './claim-pool.ts'
import { STOPPING_MESSAGE, SYNC_LEASE_MS, type SyncMode, type SyncService } from './sync-service.ts'
import { MAX_SYNC_DELAY_MS, logTime } from './platform-backoff.ts'
import type { RevocationReport, Revocations } from './revocations.ts'
import type { QuotaStatus } from './rate-governor.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

export interface SyncBatchReport {
  readonly synced: number
  readonly postponed: number
  readonly failed: number
  /** Instagram calls made by this run's syncs, failed ones included. */
  readonly api_calls: number
  readonly modes: Record<SyncMode, number>
}

export interface JobsReport {
  readonly renewals: RenewalReport
  readonly syncs: SyncBatchReport
  readonly webhooks: DeliveryReport
  readonly revocations: RevocationReport
  /** The app's quotas over fixed windows after the pass (YouTube's day, X's month of reads). */
  readonly quotas: readonly QuotaStatus[]
  /** What the sync schedule cannot keep (a quota too small: `SyncService.scheduleWarnings`). */
  readonly warnings: readonly { platform: string; message: string }[]
  /** The archive's pass (absent without a blob store). */
  readonly archive?: ArchiveReport
  readonly purged: PurgeReport & {
    readonly sessions: number
    readonly oauth_states: number
    readonly revocations: number
  }
}

export interface JobRunnerDeps {
  readonly store: Store
  readonly clock: Clock
  readonly logger: FastifyBaseLogger
  readonly renewal: RenewalService
  readonly sync: SyncService
  readonly webhooks: WebhookNotifier
  /** Queued revocations of disconnected grants (none when not given). */
  readonly revocations?: Revocations
  /** The app's quotas over fixed windows, for the report (none when not given). */
  readonly quotas?: () => Promise<readonly QuotaStatus[]>
  /** The media archive (none without a blob store). */
  readonly archiver?: Archiver
  /** Accounts synced at the same time. */
  readonly concurrency: number
  /**
   * `false` turns scheduled syncs off (renewal, webhooks and purge still run): configured so, or
   * Instagram is not configured.
   */
  readonly syncEnabled: boolean
  /** Revoked accounts are deleted after this long without a reconnection. */
  readonly revokedRetentionMs: number
  /** Safety bound on accounts synced per run. */
  readonly maxSyncsPerRun?: number
  /** This instance's id: the first half of every lease owner (default: a fresh one). */
  readonly instanceId?: string
}

export interface JobRunner {
  /** One pass over everything due. @throws ERR_STORE (503) once `stop()` was called. */
  runDue(): Promise<JobsReport>
  /**
   * Graceful stop: no new pass, no new claims (renewal, sync, webhooks stop too), and the pass in
   * flight gets until `deadlineMs` from now. Resolves `true` when it finished in time.
   */
  stop(deadlineMs: number): Promise<boolean>
}

export function createJobRunner(deps: JobRunnerDeps): JobRunner {
  const { store, clock } = deps
  let running: Promise<JobsReport> | null = null
  let lastPurge = Number.NEGATIVE_INFINITY
  const maxSyncs = deps.maxSyncsPerRun ?? 10_000
  const instanceId = deps.instanceId ?? newInstanceId()
  let stopping = false

  async function syncDue(): Promise<SyncBatchReport> {
    const modes: Record<SyncMode, number> = { incremental: 0, full: 0, resume: 0 }
    let synced = 0
    let postponed = 0
    let failed = 0
    let calls = 0
    await drainClaims({
      concurrency: deps.concurrency,
      max: maxSyncs,
      stopped: () => stopping,
      claim: async () => {
        const now = clock.now()
        const [account] = await store.claimDueSyncs({
          now,
          leaseUntil: now + SYNC_LEASE_MS,
          limit: 1,
          owner: leaseOwner(instanceId),
        })
        if (
          account !== undefined &&
          account.next_sync_at !== null &&
          account.next_sync_at > now + MAX_SYNC_DELAY_MS
        ) {
          deps.logger.warn(
            { accountId: account.id, storedNextSync: logTime(account.next_sync_at) },
            'a next sync time beyond any this version schedules was ignored: syncing now',
          )
        }
        return account
      },
      work: async (account) => {
        try {
          // calls are counted as they happen, so failed runs are reported too
          const result = await deps.sync.syncClaimed(account, () => calls++)
          if (result === null) {
            postponed++
          } else {
            synced++
            modes[result.mode]++
          }
        } catch {
          // the sync service stored the status, the backoff and the log line
          failed++
        }
      },
    })
    return { synced, postponed, failed, api_calls: calls, modes }
  }

  async function purge(): Promise<JobsReport['purged']> {
    const now = clock.now()
    if (now - lastPurge < HOUR) {
      return {
        sessions: 0,
        oauth_states: 0,
        revoked_accounts: 0,
        webhook_deliveries: 0,
        api_budgets: 0,
        known_devices: 0,
        revocations: 0,
      }
    }
    lastPurge = now
    const sessions = await store.deleteExpiredSessions(now)
    const oauthStates = await store.deleteExpiredOAuthStates(now)
    const rest = await store.purge({
      now,
      revokedBefore: now - deps.revokedRetentionMs,
      webhooksBefore: now - 7 * DAY,
      budgetsBefore: now - 2 * HOUR,
      devicesBefore: now - KNOWN_DEVICE_LIFETIME_MS,
    })
    const revocations = await store.purgeExpiredRevocations(now)
    return { sessions, oauth_states: oauthStates, revocations, ...rest }
  }

  async function runAll(): Promise<JobsReport> {
    const renewals = await deps.renewal.runDue()
    const syncs = deps.syncEnabled
      ? await syncDue()
      : {
          synced: 0,
          postponed: 0,
          failed: 0,
          api_calls: 0,
          modes: { incremental: 0, full: 0, resume: 0 },
        }
    const webhooks = await deps.webhooks.deliverDue()
    const revocations = stopping
      ? { revoked: 0, retried: 0, dropped: 0 }
      : ((await deps.revocations?.runDue()) ?? { revoked: 0, retried: 0, dropped: 0 })
    const archive = stopping ? undefined : await deps.archiver?.runDue()
    const purged = await purge()
    const quotas = (await deps.quotas?.()) ?? []
    const warnings = deps.sync.scheduleWarnings()
    deps.logger.debug({ renewals, syncs, webhooks, revocations, purged, quotas }, 'due jobs ran')
    return {
      renewals,
      syncs,
      webhooks,
      revocations,
      quotas,
      warnings,
      ...(archive === undefined ? {} : { archive }),
      purged,
    }
  }

  return {
    runDue() {
      if (stopping)
        return Promise.reject(
          new GalleryError('ERR_SHUTTING_DOWN', STOPPING_MESSAGE, { retryAfterSeconds: 5 }),
        )
      running ??= runAll().finally(() => {
        running = null
      })
      return running
    },
    async stop(deadlineMs) {
      stopping = true
      deps.renewal.stop()
      deps.sync.stop()
      deps.webhooks.stop()
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), deadlineMs)
        timer.unref()
      })
      const done = Promise.allSettled([
        running ?? Promise.resolve(),
        deps.sync.idle(),
        deps.webhooks.idle(),
      ]).then(() => true)
      try {
        return await Promise.race([done, deadline])
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
