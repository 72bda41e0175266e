/**
 * @module store/types/deletions — Meta's deauthorize and data-deletion requests, and "delete all my
 * data".
 */
import type { SocialAccountRecord } from './accounts.ts'

export interface DataDeletionRecord {
  readonly confirmation_code: string
  readonly instagram_user_id: string
  readonly status: 'completed'
  readonly deleted_accounts: number
  readonly requested_at: number
  readonly completed_at: number
}

/** Revocations and deletions asked for by the provider or by the person. */
export interface DeletionStore {
  /**
   * Marks every OAuth account connected to this Instagram user (matched on the professional or
   * the app-scoped id) `revoked` and deletes its token. Returns the accounts changed (none when
   * they were already revoked: a replayed callback changes nothing).
   */
  revokeInstagramAccounts(
    instagramId: string,
    message: string,
    now: number,
  ): Promise<SocialAccountRecord[]>
  /** Deletes every account (and its media) of this Instagram user, for all users. */
  deleteInstagramUserData(instagramId: string): Promise<number>
  /** Deletes all of a user's social accounts and media. Returns how many accounts. */
  deleteUserSocialData(userId: string): Promise<number>
  /**
   * Records a completed data-deletion request; a repeated request for the same Instagram user
   * keeps its first confirmation code (returned), with the new completion time.
   */
  recordDataDeletion(record: DataDeletionRecord): Promise<DataDeletionRecord>
  findDataDeletion(confirmationCode: string): Promise<DataDeletionRecord | null>
}
