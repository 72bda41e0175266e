/**
 * @module socials/sync-service — pulls an account's media from Instagram into the store.
 *
 * One profile call, then `/me/media` page by page (album children come through field expansion,
 * not one call per album). Each page is stored in its own transaction as it arrives, so a sync
 * that fails half-way keeps what it stored; deletions are applied only after a complete run.
 * Within a process, concurrent syncs of one account share one run.
 */
import { randomUUID } from 'node:crypto'
import { GalleryError, isGalleryError } from '../errors.ts'
import type { Clock } from '../clock.ts'
import type { FernetKeyRing } from '../crypto/fernet.ts'
import type { AccountStatus, SocialAccountRecord, Store } from '../store/types.ts'
import type { InstagramClient } from '../providers/instagram/client.ts'
import { NOT_CONFIGURED_MESSAGE } from './messages.ts'
import { readAccountToken } from './account-token.ts'
import type { FastifyBaseLogger } from 'fastify'

export interface SyncResult {
  readonly added: number
  readonly updated: number
  readonly removed: number
  readonly api_calls: number
}

export interface SyncServiceDeps {
  readonly store: Store
  readonly vault: FernetKeyRing
  readonly clock: Clock
  readonly logger: FastifyBaseLogger
  /** Makes a client that counts its calls; `null` when Instagram is not configured. */
  readonly instagramClient: ((onCall: () => void) => InstagramClient) | null
  /** Safety bound on pages per sync (at 100 per page, 100k media). */
  readonly maxPages?: number
}

const STATUS_FOR_ERROR: Partial<Record<GalleryError['code'], AccountStatus>> = {
  ERR_REAUTH_REQUIRED: 'reauth_required',
  ERR_RATE_LIMITED: 'rate_limited',
}

export interface SyncService {
  /** Syncs one account of `userId` now. @throws ERR_NOT_FOUND for another user's account. */
  syncAccount(userId: string, accountId: string): Promise<SyncResult>
}

export function createSyncService(deps: SyncServiceDeps): SyncService {
  const inFlight = new Map<string, Promise<SyncResult>>()
  const maxPages = deps.maxPages ?? 1000

  async function run(account: SocialAccountRecord): Promise<SyncResult> {
    const { store, clock } = deps
    if (deps.instagramClient === null) {
      throw new GalleryError('ERR_NOT_CONFIGURED', NOT_CONFIGURED_MESSAGE)
    }
    const markFailed = async (error: GalleryError): Promise<never> => {
      await store.updateAccount(account.id, {
        status: STATUS_FOR_ERROR[error.code] ?? 'error',
        status_message: error.message,
        now: clock.now(),
      })
      throw error
    }
    if (account.status === 'revoked') {
      throw new GalleryError(
        'ERR_REAUTH_REQUIRED',
        'Access to this account was removed on Instagram; reconnect it',
      )
    }
    let token: string
    try {
      token = readAccountToken(deps.vault, account, clock.now()).plaintext
    } catch (error) {
      if (!isGalleryError(error)) throw error
      return markFailed(error)
    }

    let calls = 0
    const client = deps.instagramClient(() => {
      calls++
    })
    const syncId = randomUUID()
    let added = 0
    let updated = 0
    await store.updateAccount(account.id, {
      status: 'syncing',
      status_message: null,
      now: clock.now(),
    })
    try {
      const profile = await client.fetchProfile(token)
      let page = await client.fetchFirstMediaPage(token)
      let seen = 0
      for (let pages = 1; ; pages++) {
        const result = await store.upsertMediaPage(account, syncId, page.items, clock.now())
        added += result.added
        updated += result.updated
        seen += page.items.length
        if (page.next === null) break
        if (pages >= maxPages)
          throw new GalleryError(
            'ERR_PROVIDER_RESPONSE',
            `Instagram returned more than ${maxPages} pages of media; sync stopped`,
          )
        page = await client.fetchMediaPage(page.next)
      }
      const removed = await store.removeMediaNotSeen(account.id, syncId)
      await store.updateAccount(account.id, {
        status: 'active',
        status_message: null,
        last_sync: clock.now(),
        posts_count: profile.mediaCount ?? seen,
        now: clock.now(),
      })
      const result = { added, updated, removed, api_calls: calls }
      deps.logger.info({ accountId: account.id, ...result }, 'sync finished')
      return result
    } catch (error) {
      const failure = isGalleryError(error)
        ? error
        : new GalleryError('ERR_INTERNAL', 'Sync failed unexpectedly', { cause: error })
      deps.logger.warn(
        {
          accountId: account.id,
          code: failure.code,
          added,
          updated,
          api_calls: calls,
          err: failure,
        },
        'sync failed',
      )
      return markFailed(failure)
    }
  }

  return {
    /** Syncs one account of `userId` now. @throws ERR_NOT_FOUND for another user's account. */
    async syncAccount(userId: string, accountId: string): Promise<SyncResult> {
      const account = await deps.store.getAccount(userId, accountId)
      if (account === null) throw new GalleryError('ERR_NOT_FOUND', 'Account not found')
      if (account.account_type === 'public') {
        throw new GalleryError(
          'ERR_VALIDATION',
          'Public profile links are not synced; connect the account with Instagram to sync its media',
        )
      }
      const running = inFlight.get(account.id)
      if (running !== undefined) return running
      const promise = run(account).finally(() => inFlight.delete(account.id))
      inFlight.set(account.id, promise)
      return promise
    },
  }
}
