/**
 * @module socials/renewal-service — keeps long-lived Instagram tokens alive.
 *
 * Rule: renew when the token expires within the margin (default 30 days, never less than the
 * original app's 7) and is at least 24 hours old and unexpired (Meta's conditions for
 * `ig_refresh_token`). One renewal per account at a time: a promise set within the process and a
 * database lease across processes; the new token is stored with a compare-and-swap on the old
 * one, in one write with its expiry, so a failed or lost renewal never loses a working token.
 * Expired tokens are marked `reauth_required`.
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
import type { ProviderCapabilities } from '../providers/types.ts'
import { readAccountToken, TOKEN_EXPIRED_MESSAGE } from './account-token.ts'
import { backoffMs } from './account-health.ts'

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
  /** How long a claimed renewal is held before another worker may take it over. */
  readonly leaseMs?: number
  readonly batchSize?: number
  /** Renewals in flight at the same time (default 1). */
  readonly concurrency?: number
}

export interface RenewalReport {
  readonly renewed: number
  readonly failed: number
  readonly reauth_required: number
  readonly expired: number
  readonly api_calls: number
}

export interface RenewalService {
  /** Renews every due token (in batches) and marks expired ones. */
  runDue(): Promise<RenewalReport>
}

export function createRenewalService(deps: RenewalServiceDeps): RenewalService {
  const inFlight = new Set<string>()
  const leaseMs = deps.leaseMs ?? 2 * 60_000
  const batchSize = deps.batchSize ?? 50
  const concurrency = Math.max(1, deps.concurrency ?? 1)

  async function renewOne(
    makeClient: ProviderClientFactory,
    account: SocialAccountRecord,
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
        previousToken: token.encrypted,
        encryptedToken: deps.vault.encrypt(renewed.accessToken),
        // a renewed token without a lifetime keeps the old expiry: renewal is tried again before it
        expiresAt: renewed.accessTokenExpiresAt ?? account.token_expires_at ?? now,
        issuedAt: renewed.issuedAt,
        now,
      })
      if (!stored) {
        // the account was reconnected or deleted meanwhile: its newer state wins
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
      for (let round = 0; round < 1000; round++) {
        const now = clock.now()
        const claimed = await store.claimDueRenewals({
          now,
          dueBefore: now + dueMargin,
          issuedBefore: now - minAgeMs,
          leaseUntil: now + leaseMs,
          limit: batchSize,
        })
        if (claimed.length === 0) break
        // the batch is leased to this runner: `concurrency` workers take its accounts in turn
        const queue = claimed.filter((account) => !inFlight.has(account.id))
        const worker = async (): Promise<void> => {
          for (let account = queue.shift(); account !== undefined; account = queue.shift()) {
            inFlight.add(account.id)
            try {
              const outcome = await renewOne(makeClient, account, onCall)
              if (outcome === 'renewed') renewed++
              else if (outcome === 'reauth_required') reauth++
              else failed++
            } finally {
              inFlight.delete(account.id)
            }
          }
        }
        await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker))
        if (claimed.length < batchSize) break
      }
      return { renewed, failed, reauth_required: reauth, expired, api_calls: calls }
    },
  }
}
