/**
 * @module socials/revocations — giving a grant back to its platform when a person disconnects.
 *
 * A disconnect asks the platform to revoke the grant (where it has an endpoint: Google's), then
 * deletes what we hold. What the platform answers never keeps our copy alive:
 * - revoked, or the grant is already gone (an invalid or expired token): the account is deleted;
 * - the platform cannot be reached, or throttles us: the account is deleted and, in the same
 *   transaction, the grant's sealed credentials are queued (`pending_revocations`, still sealed
 *   with our Fernet keys) and revoked later by the job runner, with backoff, until the platform
 *   confirms, says the grant is gone, the attempts run out, or the grant would have ended by
 *   itself (at most a week).
 *
 * Nothing here logs a token: only account ids, platforms and error codes.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../clock.ts'
import type { FernetKeyRing } from '../crypto/fernet.ts'
import { isGalleryError, type GalleryError } from '../errors.ts'
import type { Credentials, ProviderClient } from '../providers/types.ts'
import { leaseOwner, newInstanceId } from '../store/leases.ts'
import type { PendingRevocationInput, SocialAccountRecord, Store } from '../store/types.ts'
import type { Connections } from './connections.ts'
import { parseSealed } from './credentials.ts'
import { drainClaims } from './claim-pool.ts'

const MINUTE = 60_000
/** Waits before each retry: 1 and 5 minutes, half an hour, 2, 6 and 12 hours; then given up. */
export const REVOCATION_RETRY_MINUTES = [1, 5, 30, 120, 360, 720] as const
/** A queued revocation is given up after this long at most. */
export const REVOCATION_MAX_AGE_MS = 7 * 24 * 60 * MINUTE
const LEASE_MS = 2 * MINUTE

export interface RevocationDeps {
  readonly store: Store
  readonly vault: FernetKeyRing
  readonly clock: Clock
  readonly logger?: FastifyBaseLogger | undefined
  readonly connections: Connections
  readonly instanceId?: string
}

export interface RevocationReport {
  readonly revoked: number
  readonly retried: number
  readonly dropped: number
}

export interface Revocations {
  /**
   * Revokes the account's grant at its platform and deletes the account; a grant the platform
   * could not take back now is queued with the deletion. `false`: no such account of the user.
   */
  disconnect(account: SocialAccountRecord, credentials: Credentials | null): Promise<boolean>
  /**
   * Revokes the grants of accounts about to be deleted together ("delete all my data"); those the
   * platform cannot take now are queued. Deletes nothing itself.
   */
  revokeBeforeDeleting(
    accounts: readonly { account: SocialAccountRecord; credentials: Credentials | null }[],
  ): Promise<void>
  /** Retries the queued revocations that are due (one job-runner pass). */
  runDue(): Promise<RevocationReport>
}

/** A failure worth another attempt: the platform was unreachable, down or throttling. */
function transient(error: unknown): error is GalleryError {
  return (
    isGalleryError(error) &&
    (error.code === 'ERR_PROVIDER_UNAVAILABLE' || error.code === 'ERR_RATE_LIMITED')
  )
}

export function createRevocations(deps: RevocationDeps): Revocations {
  const { store, clock } = deps
  const instanceId = deps.instanceId ?? newInstanceId()

  /** The platform's client able to revoke, if the platform has a revocation endpoint. */
  function revoker(platform: string): ProviderClient | null {
    const connection = deps.connections.get(platform)
    if (connection === undefined) return null
    const client = connection.makeClient({ accountId: null })
    return client.capabilities.revocation === 'endpoint' && client.revoke !== undefined
      ? client
      : null
  }

  /**
   * Asks the platform to revoke the account's grant. `null`: done (revoked, moot, or nothing to
   * revoke); else the revocation to queue (the platform could not take it now).
   */
  async function attempt(
    account: SocialAccountRecord,
    credentials: Credentials | null,
  ): Promise<PendingRevocationInput | null> {
    const client = account.account_type === 'oauth' ? revoker(account.platform) : null
    if (client === null || credentials === null || client.revoke === undefined) return null
    try {
      await client.revoke(credentials)
      return null
    } catch (error) {
      const code = isGalleryError(error) ? error.code : 'unknown'
      deps.logger?.warn({ accountId: account.id, code }, 'revocation at the platform failed')
      // only sealed credentials (format 2) are queued: they are what the platform can revoke
      if (
        !transient(error) ||
        account.encrypted_credentials === null ||
        account.credentials_format !== 2
      )
        return null
      const now = clock.now()
      const ends = account.credentials_expire_at ?? Number.POSITIVE_INFINITY
      return {
        id: randomUUID(),
        platform: account.platform,
        encrypted_credentials: account.encrypted_credentials,
        next_attempt_at: now + (REVOCATION_RETRY_MINUTES[0] ?? 1) * MINUTE,
        expires_at: Math.min(ends, now + REVOCATION_MAX_AGE_MS),
        last_error: code,
        now,
      }
    }
  }

  const logQueued = (account: SocialAccountRecord): void =>
    deps.logger?.info(
      { accountId: account.id, platform: account.platform },
      'revocation queued for a retry',
    )

  return {
    async disconnect(account, credentials) {
      const queued = await attempt(account, credentials)
      if (queued === null) return store.deleteAccount(account.user_id, account.id)
      const deleted = await store.deleteAccountRevokingLater(account.user_id, account.id, queued)
      if (deleted) logQueued(account)
      return deleted
    },

    async revokeBeforeDeleting(accounts) {
      for (const { account, credentials } of accounts) {
        const queued = await attempt(account, credentials)
        if (queued === null) continue
        await store.queueRevocation(queued)
        logQueued(account)
      }
    },

    async runDue() {
      let revoked = 0
      let retried = 0
      let dropped = 0
      await drainClaims({
        concurrency: 2,
        max: 1000,
        stopped: () => false,
        claim: async () => {
          const now = clock.now()
          const [row] = await store.claimDueRevocations({
            now,
            leaseUntil: now + LEASE_MS,
            limit: 1,
            owner: leaseOwner(instanceId),
          })
          return row
        },
        work: async (row) => {
          const owner = row.lease_owner ?? ''
          const client = revoker(row.platform)
          let credentials: Credentials | null = null
          try {
            credentials = parseSealed(deps.vault.decrypt(row.encrypted_credentials))
          } catch {
            credentials = null
          }
          if (client === null || client.revoke === undefined || credentials === null) {
            // the platform is no longer configured, or no key opens the credentials
            dropped++
            deps.logger?.warn(
              { revocation: row.id, platform: row.platform },
              'a queued revocation cannot be made: dropped',
            )
            await store.finishRevocation(row.id, owner)
            return
          }
          try {
            await client.revoke(credentials)
            revoked++
            await store.finishRevocation(row.id, owner)
          } catch (error) {
            const code = isGalleryError(error) ? error.code : 'unknown'
            const wait = REVOCATION_RETRY_MINUTES[row.attempts]
            if (!transient(error) || wait === undefined) {
              // the grant is already gone (or the platform refuses for good), or no attempt left
              dropped++
              deps.logger?.warn(
                { revocation: row.id, platform: row.platform, code, attempts: row.attempts },
                transient(error)
                  ? 'a queued revocation failed its last attempt: dropped'
                  : 'a queued revocation is moot (the platform refused it): dropped',
              )
              await store.finishRevocation(row.id, owner)
              return
            }
            retried++
            await store.retryRevocation({
              id: row.id,
              owner,
              attempts: row.attempts + 1,
              nextAttemptAt: clock.now() + wait * MINUTE,
              lastError: code,
            })
          }
        },
      })
      return { revoked, retried, dropped }
    },
  }
}
