/**
 * @module socials/refresher — keeps a connection's credentials usable, driven by the platform's
 * renewal policy (the client's `capabilities.renewal`), correct when several workers and instances race.
 *
 * - `renewHeld`: one renewal by the holder of the account's renewal lease (the scheduled renewal
 *   and the pre-call refresh both end here). It opens the credentials as stored now, asks the
 *   platform for new ones, and writes them with a compare-and-swap on `credentials_version`.
 *   When the platform refuses (`invalid_grant`, code 190: ERR_REAUTH_REQUIRED), it re-reads first:
 *   if another worker meanwhile wrote newer credentials (a rotating refresh token it used), those
 *   stand and the connection is healthy; only when nothing moved is the account marked
 *   `reauth_required`. A failure never overwrites `revoked` (the store's write is conditional).
 * - `credentialsFor`: usable credentials for a call made now. With a refresh-token policy and the
 *   access token inside the margin, it refreshes first — single flight per account, within the
 *   process (one promise) and across instances (the renewal lease; a worker that finds it held
 *   waits for the holder's result instead of presenting the same refresh token again). An expired
 *   access token with a live refresh token is a working connection.
 */
import type { FastifyBaseLogger } from 'fastify'
import { GalleryError, isGalleryError } from '../errors.ts'
import type { Clock } from '../clock.ts'
import type { FernetKeyRing } from '../crypto/fernet.ts'
import type { Credentials, ProviderClient } from '../providers/types.ts'
import type { AccountStatus, SocialAccountRecord, Store } from '../store/types.ts'
import type { WebhookNotifier } from '../webhooks/webhooks.ts'
import { leaseOwner, newInstanceId, startHeartbeat } from '../store/leases.ts'
import { backoffMs } from './account-health.ts'
import {
  needsRefreshBeforeCall,
  openCredentials,
  sealCredentials,
  type OpenedCredentials,
} from './credentials.ts'

export type RenewOutcome =
  | { readonly kind: 'renewed'; readonly credentials: Credentials }
  /** Another worker's newer credentials stand (reconnected, or refreshed meanwhile). */
  | { readonly kind: 'superseded'; readonly credentials: Credentials | null }
  | { readonly kind: 'failed'; readonly status: AccountStatus; readonly message: string }

export interface RefresherDeps {
  readonly store: Store
  readonly vault: FernetKeyRing
  readonly clock: Clock
  readonly logger: FastifyBaseLogger
  readonly webhooks: WebhookNotifier
  /** A platform's name for messages ("Instagram"), by its id. */
  readonly labelOf: (platform: string) => string
  /** What a platform says when a connection has run out (default: `expiredMessage`). */
  readonly expiredMessageOf?: (platform: string) => string | undefined
  /** How long a pre-call refresh holds the renewal lease without renewal (default 2 minutes). */
  readonly leaseMs?: number
  /** How long a worker waits for another's refresh before giving up for now (default 15 s). */
  readonly waitMs?: number
  /** This instance's id: the first half of every lease owner (default: a fresh one). */
  readonly instanceId?: string
  /** Sleeps between re-reads while another worker refreshes (tests shorten it). */
  readonly sleep?: (ms: number) => Promise<void>
}

export interface Refresher {
  /** One renewal by the holder of the account's renewal lease (`owner`). */
  renewHeld(
    account: SocialAccountRecord,
    owner: string,
    client: ProviderClient,
  ): Promise<RenewOutcome>
  /**
   * Usable credentials for a call made now, refreshed first when the policy says so.
   * @throws ERR_REAUTH_REQUIRED when the connection cannot be used any more; ERR_PROVIDER_UNAVAILABLE when
   *   another worker's refresh did not finish in time (retry later).
   */
  credentialsFor(
    account: SocialAccountRecord,
    client: ProviderClient,
    /**
     * Credentials the platform just refused (a 401 with a token that should still work): they
     * are refreshed now, once, unless another worker has already stored newer ones.
     */
    rejected?: Credentials,
  ): Promise<Credentials>
}

export function createRefresher(deps: RefresherDeps): Refresher {
  const { store, clock } = deps
  const leaseMs = deps.leaseMs ?? 2 * 60_000
  const waitMs = deps.waitMs ?? 15_000
  const instanceId = deps.instanceId ?? newInstanceId()
  const sleep = deps.sleep ?? ((ms) => new Promise<void>((done) => setTimeout(done, ms)))
  /** In-process single flight: one refresh per account at a time. */
  const inFlight = new Map<string, Promise<Credentials>>()

  /** The account's credentials as stored now, in its platform's words when they have run out. */
  const open = (account: SocialAccountRecord): OpenedCredentials => {
    const label = deps.labelOf(account.platform)
    const expired = deps.expiredMessageOf?.(account.platform)
    return expired === undefined
      ? openCredentials(deps.vault, account, clock.now(), label)
      : openCredentials(deps.vault, account, clock.now(), label, expired)
  }

  const reread = (account: SocialAccountRecord): Promise<SocialAccountRecord | null> =>
    store.getAccount(account.user_id, account.id)

  /** The credentials `current` holds if another writer stored them since `version` and they work. */
  function newerIn(current: SocialAccountRecord | null, version: number): Credentials | null {
    if (current === null || current.credentials_version === version) return null
    if (current.status === 'revoked' || current.status === 'reauth_required') return null
    try {
      return open(current).credentials
    } catch {
      return null
    }
  }

  /** The newer credentials another writer stored since `version`, if any (and still usable). */
  async function newerThan(account: SocialAccountRecord, version: number) {
    return newerIn(await reread(account), version)
  }

  async function renewHeld(
    account: SocialAccountRecord,
    owner: string,
    client: ProviderClient,
  ): Promise<RenewOutcome> {
    const fail = async (
      status: AccountStatus,
      message: string,
      version: number,
    ): Promise<RenewOutcome> => {
      const now = clock.now()
      // a compare-and-swap on the credentials this renewal read: a revocation, a reconnection
      // or another worker's renewal stands
      // the store writes `account.reauth_required` with the change, only if it made it so
      const recorded = await store.failRenewal({
        accountId: account.id,
        owner,
        expectedVersion: version,
        status,
        message,
        retryAt: now + backoffMs(account.renewal_failures + 1),
        now,
        events: deps.webhooks.events,
      })
      deps.logger.warn({ accountId: account.id, status, recorded }, 'token renewal failed')
      if (recorded && status === 'reauth_required') deps.webhooks.deliverSoon()
      return { kind: 'failed', status, message }
    }
    let opened
    try {
      opened = open(account)
    } catch (error) {
      if (!isGalleryError(error)) throw error
      return fail('reauth_required', error.message, account.credentials_version)
    }
    const { credentials: current, version } = opened
    try {
      const renewed = await client.renew(current)
      const now = clock.now()
      const next: Credentials = {
        ...renewed,
        // a renewed token without a lifetime keeps the old expiry: renewal is tried again before it
        accessTokenExpiresAt: renewed.accessTokenExpiresAt ?? current.accessTokenExpiresAt ?? now,
        // a platform that answers a refresh without a new refresh token keeps the old one
        refreshToken: renewed.refreshToken ?? current.refreshToken,
        refreshTokenExpiresAt:
          renewed.refreshToken === null
            ? current.refreshTokenExpiresAt
            : renewed.refreshTokenExpiresAt,
        scopes: renewed.scopes ?? current.scopes,
      }
      const stored = await store.completeRenewal({
        accountId: account.id,
        owner,
        expectedVersion: version,
        credentials: sealCredentials(deps.vault, next),
        now,
      })
      if (!stored) {
        // reconnected, revoked or deleted meanwhile, or another renewal stored first: the newer
        // state wins (a renewal that merely lost its lease still stores: its tokens may be the
        // only ones a rotating platform honours)
        deps.logger.info({ accountId: account.id }, 'token renewal superseded')
        return {
          kind: 'superseded',
          credentials: await newerThan(account, version),
        }
      }
      deps.logger.info({ accountId: account.id }, 'token renewed')
      return { kind: 'renewed', credentials: next }
    } catch (error) {
      if (isGalleryError(error) && error.code === 'ERR_REAUTH_REQUIRED') {
        // a rotating refresh token another worker already used: its newer credentials stand
        const newer = await newerThan(account, version)
        if (newer !== null) {
          deps.logger.info({ accountId: account.id }, 'token renewal superseded by another worker')
          return { kind: 'superseded', credentials: newer }
        }
        return fail('reauth_required', error.message, version)
      }
      const message = isGalleryError(error) ? error.message : 'Token renewal failed unexpectedly'
      // transient or refused: the working credentials are kept; the next run tries again
      return fail('degraded', `Token renewal will be retried: ${message}`, version)
    }
  }

  /** Refreshes ahead of a call: takes the renewal lease, or waits for whoever holds it. */
  async function refreshBeforeCall(
    account: SocialAccountRecord,
    client: ProviderClient,
    due: (credentials: Credentials) => boolean,
  ): Promise<Credentials> {
    const owner = leaseOwner(instanceId)
    const deadline = clock.now() + waitMs
    const startVersion = account.credentials_version
    for (;;) {
      const now = clock.now()
      if (await store.acquireAccountLease('renewal', account.id, now, now + leaseMs, owner)) {
        const heartbeat = startHeartbeat({
          clock,
          leaseMs,
          renew: (until) =>
            store.renewAccountLease('renewal', { accountId: account.id, owner }, until),
          onError: (error) =>
            deps.logger.warn({ accountId: account.id, err: error }, 'refresh lease renewal failed'),
        })
        try {
          // re-read under the lease: another worker may have refreshed just before
          const current = await reread(account)
          if (current === null)
            throw new GalleryError('ERR_NOT_FOUND', 'This account is no longer connected')
          const opened = open(current)
          if (!due(opened.credentials)) {
            await store.releaseAccountLease('renewal', { accountId: account.id, owner })
            return opened.credentials
          }
          const outcome = await renewHeld(current, owner, client)
          if (outcome.kind === 'renewed') return outcome.credentials
          // not renewed here: free the lease if still ours (a failure's back-off has no owner)
          await store.releaseAccountLease('renewal', { accountId: account.id, owner })
          if (outcome.kind === 'superseded' && outcome.credentials !== null)
            return outcome.credentials
          if (outcome.kind === 'failed' && outcome.status === 'reauth_required')
            throw new GalleryError('ERR_REAUTH_REQUIRED', outcome.message)
          throw new GalleryError(
            'ERR_PROVIDER_UNAVAILABLE',
            outcome.kind === 'failed'
              ? outcome.message
              : 'The connection changed while it was being refreshed; try again',
          )
        } finally {
          heartbeat.stop()
        }
      }
      // held by another worker (or a renewal back-off): its result is what we need
      // one read per round: the holder's result, or why there will be none
      const current = await reread(account)
      const newer = newerIn(current, startVersion)
      if (newer !== null) return newer
      if (current === null)
        throw new GalleryError('ERR_NOT_FOUND', 'This account is no longer connected')
      if (current.status === 'reauth_required' || current.status === 'revoked')
        throw new GalleryError(
          'ERR_REAUTH_REQUIRED',
          current.status_message ??
            `This ${deps.labelOf(account.platform)} account needs to be reconnected`,
        )
      if (clock.now() >= deadline)
        throw new GalleryError(
          'ERR_PROVIDER_UNAVAILABLE',
          `The ${deps.labelOf(account.platform)} connection is being renewed elsewhere; try again in a moment`,
        )
      await sleep(200)
    }
  }

  return {
    renewHeld,
    async credentialsFor(account, client, rejected) {
      const opened = open(account)
      /** Whether `credentials` must be refreshed before the call. */
      const due = (credentials: Credentials): boolean =>
        rejected !== undefined
          ? // refused by the platform: refresh, unless what is stored now is another token
            client.capabilities.renewal.kind === 'refresh_token' &&
            credentials.refreshToken !== null &&
            credentials.accessToken === rejected.accessToken
          : needsRefreshBeforeCall(client.capabilities.renewal, credentials, clock.now())
      if (!due(opened.credentials)) return opened.credentials
      const running = inFlight.get(account.id)
      if (running !== undefined) return running
      const refresh = refreshBeforeCall(account, client, due).finally(() =>
        inFlight.delete(account.id),
      )
      inFlight.set(account.id, refresh)
      return refresh
    },
  }
}
