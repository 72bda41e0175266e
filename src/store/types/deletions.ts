/**
 * @module store/types/deletions — Meta's deauthorize and data-deletion requests, and "delete all my
 * data".
 */
import type { SocialAccountRecord } from './accounts.ts'
import type { EventMaker } from './outbox.ts'

export interface DataDeletionRecord {
  readonly confirmation_code: string
  /** The platform whose callback asked (`instagram`: Meta's data-deletion callback). */
  readonly platform: string
  /** The id the platform named the person by (for Instagram, the app-scoped id). */
  readonly platform_user_id: string
  readonly status: 'completed'
  readonly deleted_accounts: number
  readonly requested_at: number
  readonly completed_at: number
}

/** Revocations and deletions asked for by the provider or by the person. */
export interface DeletionStore {
  /**
   * Marks every OAuth account of `platform` connected to this platform user (matched on its
   * `platform_user_id` or `platform_scoped_id`) `revoked` and deletes its credentials. Returns the
   * accounts changed (none when they were already revoked: a replayed callback changes nothing).
   */
  revokeByPlatformIdentity(
    platform: string,
    platformUserId: string,
    message: string,
    now: number,
    /** With webhooks on: one `account.revoked` per account changed, in the same transaction. */
    events?: EventMaker | null,
  ): Promise<SocialAccountRecord[]>
  /**
   * Deletes all of a user's social accounts and media, with (webhooks on, `now` given) its
   * `data.deleted` event in the same transaction. Returns how many accounts.
   */
  deleteUserSocialData(userId: string, now?: number, events?: EventMaker | null): Promise<number>
  /**
   * A platform's data-deletion request, in one transaction: deletes every account of `platform`
   * of this platform user (and their media), records the confirmation (a repeated request keeps
   * its first code) and, with webhooks on, writes the `data.deleted` event.
   */
  deletePlatformUserData(
    input: { platform: string; platformUserId: string; confirmationCode: string; now: number },
    events?: EventMaker | null,
  ): Promise<{ deleted: number; record: DataDeletionRecord }>
  findDataDeletion(confirmationCode: string): Promise<DataDeletionRecord | null>
}
