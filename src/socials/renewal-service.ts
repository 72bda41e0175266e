/**
 * @module socials/renewal-service — keeps connections alive on a schedule (Instagram's long-lived
 * tokens today; refresh tokens that would otherwise run out), through the refresher.
 *
 * Rule, per configured platform: renew when the connection runs out within the margin (default
 * 30 days, never less than the original app's 7) and, for Instagram, the token is at least 24
 * hours old (Meta's conditions for `ig_refresh_token`). One renewal per account at a time: a
 * database lease, within the process and across processes; the new credentials are stored with a
 * compare-and-swap on their version (`refresher.ts`), so a failed or lost renewal never loses a
 * working token. Connections that ran out are marked `reauth_required`.
 *
 * Claims are made just in time, one account per free worker (up to `concurrency`), never a batch
 * that could outlive its lease (review D2). Each lease names its owner (`<instance id>:<run id>`),
 * a heartbeat renews it every third of its length while the renewal runs, and the outcome
 * (`completeRenewal`, `failRenewal`) is written only while that owner still holds it.
 *
 * @see shared/reference/instagram-api.md §2.4
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../clock.ts'
import type { FernetKeyRing } from '../crypto/fernet.ts'
import type { SocialAccountRecord, Store } from '../store/types.ts'
import type { WebhookNotifier } from '../webhooks/webhooks.ts'
import type { ProviderClientFactory } from './client-factory.ts'
import { drainClaims } from './claim-pool.ts'
import { expiredMessage } from './credentials.ts'
import type { Connections } from './connections.ts'
import { createRefresher } from './refresher.ts'
import { leaseOwner, newInstanceId, startHeartbeat } from '../store/leases.ts'

const DAY = 86_400_000

export interface RenewalServiceDeps {
  readonly store: Store
  readonly vault: FernetKeyRing
  readonly clock: Clock
  readonly logger: FastifyBaseLogger
  /** The configured platforms: each one's accounts are renewed by its own policy and client. */
  readonly connections: Connections
  readonly webhooks: WebhookNotifier
  /** Renew connections running out within this many milliseconds. */
  readonly marginMs: number
  /**
   * How long a claimed renewal is held without renewal (the heartbeat renews it every third of
   * this) before another worker may take it over.
   */
  readonly leaseMs?: number
  /** Safety bound on renewals per pass. */
  readonly maxPerRun?: number
  /** Renewals in flight at the same time (default 1), each claimed by a free worker. */
  readonly concurrency?: number
  /** This instance's id: the first half of every lease owner (default: a fresh one). */
  readonly instanceId?: string
}

export interface RenewalReport {
  readonly renewed: number
  readonly failed: number
  readonly reauth_required: number
  readonly expired: number
  readonly api_calls: number
}

export interface RenewalService {
  /** Renews every due token (one claim per free worker) and marks expired ones. */
  runDue(): Promise<RenewalReport>
  /** Graceful stop: no new claims; renewals in flight finish. */
  stop(): void
}

export function createRenewalService(deps: RenewalServiceDeps): RenewalService {
  const leaseMs = deps.leaseMs ?? 2 * 60_000
  const maxPerRun = deps.maxPerRun ?? 10_000
  const concurrency = Math.max(1, deps.concurrency ?? 1)
  const instanceId = deps.instanceId ?? newInstanceId()
  const refresher = createRefresher({
    ...deps,
    instanceId,
    leaseMs,
    labelOf: (platform) => deps.connections.get(platform)?.label ?? platform,
    expiredMessageOf: (platform) => deps.connections.get(platform)?.expiredMessage,
  })
  let stopping = false

  /** One renewal under its lease, with the heartbeat running. */
  async function renewHolding(
    makeClient: ProviderClientFactory,
    account: SocialAccountRecord,
    owner: string,
    onCall: () => void,
  ): Promise<'renewed' | 'failed' | 'reauth_required'> {
    const lease = { accountId: account.id, owner }
    const heartbeat = startHeartbeat({
      clock: deps.clock,
      leaseMs,
      renew: (leaseUntil) => deps.store.renewAccountLease('renewal', lease, leaseUntil),
      onError: (error) =>
        deps.logger.warn({ accountId: account.id, err: error }, 'renewal lease renewal failed'),
    })
    try {
      const outcome = await refresher.renewHeld(
        account,
        owner,
        makeClient({ accountId: account.id, onCall }),
      )
      if (outcome.kind === 'renewed') return 'renewed'
      // another worker's newer credentials stand: nothing left to do for this one
      if (outcome.kind === 'superseded') return 'failed'
      return outcome.status === 'reauth_required' ? 'reauth_required' : 'failed'
    } finally {
      heartbeat.stop()
    }
  }

  return {
    async runDue() {
      const { store, clock } = deps
      const dueMargin = Math.max(deps.marginMs, 7 * DAY)
      let renewed = 0
      let failed = 0
      let reauth = 0
      let calls = 0
      let expired = 0
      const onCall = (): void => {
        calls++
      }
      for (const connection of deps.connections.values()) {
        // each account marked gets its event in the same transaction
        const expiredAccounts = await store.markExpiredTokens(
          clock.now(),
          connection.expiredMessage ?? expiredMessage(connection.label),
          deps.webhooks.events,
          connection.platform,
        )
        if (expiredAccounts.length > 0) deps.webhooks.deliverSoon()
        expired += expiredAccounts.length
        const renewal = connection.capabilities.renewal
        if (renewal.kind === 'none') continue
        // Instagram renews a token only once it is a day old; a refresh token any time
        const minAgeMs = renewal.kind === 'extend_access_token' ? renewal.minAgeMs : 0
        // each worker claims just the account it renews at once (claim-pool)
        await drainClaims({
          concurrency,
          max: maxPerRun,
          stopped: () => stopping,
          claim: async () => {
            const now = clock.now()
            const owner = leaseOwner(instanceId)
            const [account] = await store.claimDueRenewals({
              platform: connection.platform,
              now,
              dueBefore: now + dueMargin,
              issuedBefore: now - minAgeMs,
              leaseUntil: now + leaseMs,
              limit: 1,
              owner,
            })
            return account === undefined ? undefined : { account, owner }
          },
          work: async ({ account, owner }) => {
            const outcome = await renewHolding(connection.makeClient, account, owner, onCall)
            if (outcome === 'renewed') renewed++
            else if (outcome === 'reauth_required') reauth++
            else failed++
          },
        })
      }
      await store.markRefreshDue(clock.now() + dueMargin, clock.now())
      return { renewed, failed, reauth_required: reauth, expired, api_calls: calls }
    },
    stop() {
      stopping = true
    },
  }
}
