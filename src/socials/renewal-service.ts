/**
 * @module socials/renewal-service — keeps long-lived Instagram tokens alive.
 *
 * Rule: renew when the token expires within the margin (default 30 days, never less than the
 * original app's 7) and is at least 24 hours old and unexpired (Meta's conditions for
 * `ig_refresh_token`). One renewal per account at a time: a database lease, within the process
 * and across processes; the new token is stored with a compare-and-swap on the old
 * one, in one write with its expiry, so a failed or lost renewal never loses a working token.
 * Expired tokens are marked `reauth_required`.
 *
 * Claims are made just in time, one account per free worker (up to `concurrency`), never a batch
 * that could outlive its lease (review D2). Each lease names its owner (`<instance id>:<run id>`),
 * a heartbeat renews it every third of its length while the renewal runs, and the outcome
 * (`completeRenewal`, `failRenewal`) is written only while that owner still holds it.
 *
 * @see shared/reference/instagram-api.md §2.4
 */
import type { FastifyBaseLogger } from 'fastify'
import { isGalleryError } from '../errors.ts'
import type { Clock } from '../clock.ts'
import type { FernetKeyRing } from '../crypto/fernet.ts'
import type { AccountStatus, SocialAccountRecord, Store } from '../store/types.ts'
import type { WebhookNotifier } from '../webhooks/webhooks.ts'
import type { ProviderClientFactory } from './client-factory.ts'
import { drainClaims } from './claim-pool.ts'
import type { ProviderCapabilities } from '../providers/types.ts'
import { readAccountToken, TOKEN_EXPIRED_MESSAGE } from './account-token.ts'
import { backoffMs } from './account-health.ts'
import { leaseOwner, newInstanceId, startHeartbeat } from '../store/leases.ts'

const DAY = 86_400_000

export interface RenewalServiceDeps {
  readonly store: Store
  readonly vault: FernetKeyRing
  readonly clock: Clock
  readonly logger: FastifyBaseLogger
  readonly instagramClient: ProviderClientFactory | null
  /** How the platform's connections stay alive (its capabilities). */
  readonly renewal: ProviderCapabilities['renewal']
  readonly webhooks: WebhookNotifier
  /** Renew tokens expiring within this many milliseconds. */
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
      return await renewOne(makeClient, account, owner, onCall)
    } finally {
      heartbeat.stop()
    }
  }

  async function renewOne(
    makeClient: ProviderClientFactory,
    account: SocialAccountRecord,
    owner: string,
    onCall: () => void,
  ): Promise<'renewed' | 'failed' | 'reauth_required'> {
    const { store, clock } = deps
    const fail = async (
      status: AccountStatus,
      message: string,
    ): Promise<'failed' | 'reauth_required'> => {
      const now = clock.now()
      const retryAt = now + backoffMs(account.renewal_failures + 1)
      // a compare-and-swap on the token this renewal tried: a revocation or reconnection stands
      const recorded = await store.failRenewal({
        accountId: account.id,
        owner,
        previousToken: account.encrypted_access_token,
        status,
        message,
        retryAt,
        now,
      })
      deps.logger.warn({ accountId: account.id, status, recorded }, 'token renewal failed')
      // nothing written (revoked or reconnected meanwhile): no event for a change not made
      if (recorded && status === 'reauth_required' && account.status !== 'reauth_required')
        await deps.webhooks.emitAccount('account.reauth_required', {
          ...account,
          status,
          status_message: message,
        })
      return status === 'reauth_required' ? 'reauth_required' : 'failed'
    }
    let token: { plaintext: string; encrypted: string }
    try {
      token = readAccountToken(deps.vault, account, clock.now())
    } catch (error) {
      if (!isGalleryError(error)) throw error
      return fail('reauth_required', error.message)
    }
    try {
      const client = makeClient({ accountId: account.id, onCall })
      const renewed = await client.renew({
        accessToken: token.plaintext,
        accessTokenExpiresAt: account.token_expires_at,
        issuedAt: account.token_issued_at ?? 0,
      })
      const now = clock.now()
      const stored = await store.completeRenewal({
        accountId: account.id,
        owner,
        previousToken: token.encrypted,
        encryptedToken: deps.vault.encrypt(renewed.accessToken),
        // a renewed token without a lifetime keeps the old expiry: renewal is tried again before it
        expiresAt: renewed.accessTokenExpiresAt ?? account.token_expires_at ?? now,
        issuedAt: renewed.issuedAt,
        now,
      })
      if (!stored) {
        // the account was reconnected or deleted meanwhile (its newer state wins), or this
        // renewal lost its lease (stalled past it, and another took over)
        deps.logger.info({ accountId: account.id }, 'token renewal superseded')
        return 'failed'
      }
      deps.logger.info({ accountId: account.id }, 'token renewed')
      return 'renewed'
    } catch (error) {
      if (isGalleryError(error) && error.code === 'ERR_REAUTH_REQUIRED')
        return fail('reauth_required', error.message)
      const message = isGalleryError(error) ? error.message : 'Token renewal failed unexpectedly'
      // transient or refused: the working token is kept; the next run tries again
      return fail('degraded', `Token renewal will be retried: ${message}`)
    }
  }

  return {
    async runDue() {
      const { store, clock } = deps
      const expiredAccounts = await store.markExpiredTokens(clock.now(), TOKEN_EXPIRED_MESSAGE)
      for (const account of expiredAccounts)
        await deps.webhooks.emitAccount('account.reauth_required', account)
      const expired = expiredAccounts.length
      const dueMargin = Math.max(deps.marginMs, 7 * DAY)
      await store.markRefreshDue(clock.now() + dueMargin, clock.now())
      let renewed = 0
      let failed = 0
      let reauth = 0
      let calls = 0
      const makeClient = deps.instagramClient
      if (makeClient === null || deps.renewal.kind === 'none')
        return { renewed, failed, reauth_required: reauth, expired, api_calls: calls }
      const onCall = (): void => {
        calls++
      }
      // Instagram renews a token only once it is a day old
      const minAgeMs = deps.renewal.minAgeMs
      // each worker claims just the account it renews at once (claim-pool)
      await drainClaims({
        concurrency,
        max: maxPerRun,
        stopped: () => stopping,
        claim: async () => {
          const now = clock.now()
          const owner = leaseOwner(instanceId)
          const [account] = await store.claimDueRenewals({
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
          const outcome = await renewHolding(makeClient, account, owner, onCall)
          if (outcome === 'renewed') renewed++
          else if (outcome === 'reauth_required') reauth++
          else failed++
        },
      })
      return { renewed, failed, reauth_required: reauth, expired, api_calls: calls }
    },
    stop() {
      stopping = true
    },
  }
}
