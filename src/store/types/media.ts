/**
 * @module store/types/media — each account's stored media, the provider's pages upserted into it,
 * and the per-user gallery version the page cache keys on.
 */

/** A change a page of media made: what `upsertMediaPage` reports. */
export interface MediaPageResult {
  readonly added: number
  /** Items whose content (caption, type, permalink, children, ...) changed. */
  readonly updated: number
  /** Items whose only change was fresh media URLs (signed CDN URLs rotate): not an edit. */
  readonly refreshed: number
  /** Items that were already stored before this page (changed or not). */
  readonly known: number
}

export type MediaType = 'IMAGE' | 'VIDEO' | 'CAROUSEL_ALBUM'

/** Who may see an item on its platform. */
export type MediaVisibility = 'public' | 'unlisted' | 'private'
export const MEDIA_VISIBILITIES: readonly MediaVisibility[] = ['public', 'unlisted', 'private']

/** Media as read from the provider, ready to store. */
export interface MediaInput {
  readonly platform_media_id: string
  readonly media_type: MediaType
  readonly media_product_type: string | null
  readonly media_url: string | null
  readonly thumbnail_url: string | null
  readonly permalink: string | null
  readonly caption: string | null
  readonly timestamp: number
  /** When the media URLs stop working, if the provider says (Instagram's `oe` parameter). */
  readonly url_expires_at: number | null
  /** A video's length in seconds, when its platform says (YouTube); `null` otherwise. */
  readonly duration_seconds: number | null
  /**
   * Who may see it on its platform (YouTube's privacy status; other platforms' media are
   * `public`). The owner sees all; public surfaces show only `public` items.
   */
  readonly visibility: MediaVisibility
  readonly children: readonly Omit<MediaInput, 'children'>[]
}

export interface MediaRecord extends Omit<MediaInput, 'children'> {
  readonly id: string
  readonly account_id: string
  readonly user_id: string
  /** The album's record id, for album children; `null` for top-level media. */
  readonly parent_id: string | null
  /** Order within the album. */
  readonly position: number
  readonly updated_at: number
}

export interface MediaWithChildren extends MediaRecord {
  readonly children: readonly MediaRecord[]
}

export interface MediaCursor {
  readonly timestamp: number
  readonly id: string
}

export interface MediaQuery {
  readonly user_id: string
  readonly account_id?: string
  /** Only media of the user's accounts on this platform. */
  readonly platform?: string
  readonly media_type?: MediaType
  readonly limit: number
  /** Return items strictly after this position in newest-first order. */
  readonly after?: MediaCursor
}

/** Where a stored item's URLs stand (`MediaStore.mediaUrlStates`). */
export interface MediaUrlState {
  readonly id: string
  readonly account_id: string
  readonly platform_media_id: string
  /** When its media URLs stop working, if the platform said. */
  readonly url_expires_at: number | null
}

/** Each account's media and the version of each user's gallery. */
export interface MediaStore {
  /**
   * Upserts one page of top-level media (and their album children) in one transaction, marking
   * them seen by `syncId`. Unchanged items are not rewritten. With `leaseOwner`, only while that
   * owner holds the account's sync lease (checked, and on PostgreSQL the row locked, in the same
   * transaction): `null` when it does not, and nothing is written.
   */
  upsertMediaPage(
    account: { id: string; user_id: string },
    syncId: string,
    items: readonly MediaInput[],
    now: number,
  ): Promise<MediaPageResult>
  upsertMediaPage(
    account: { id: string; user_id: string },
    syncId: string,
    items: readonly MediaInput[],
    now: number,
    leaseOwner: string,
  ): Promise<MediaPageResult | null>
  /**
   * Deletes the account's top-level media (and children) not seen by `syncId`. With `leaseOwner`,
   * only while that owner holds the account's sync lease: `null` when it does not, and nothing is
   * deleted (a run that lost its lease never deletes what the new holder just saw).
   */
  removeMediaNotSeen(accountId: string, syncId: string): Promise<number>
  removeMediaNotSeen(accountId: string, syncId: string, leaseOwner: string): Promise<number | null>
  /**
   * Which of `platformIds` the account already has stored (top level or album child), with what
   * a listing may reuse of them (`ProviderClient.listMedia`'s `stored`).
   */
  storedMediaHints(
    accountId: string,
    platformIds: readonly string[],
  ): Promise<Map<string, { readonly media_product_type: string | null }>>
  /** The platform id of the account's newest top-level media; `null` when it has none. */
  newestMediaId(accountId: string): Promise<string | null>
  /** How many top-level media the account has and when its earliest media URL expires. */
  summarizeMedia(accountId: string): Promise<{ count: number; urlsExpireAt: number | null }>
  listMedia(query: MediaQuery): Promise<MediaWithChildren[]>
  /** The account, platform id and URL expiry of these media rows (missing ids are left out). */
  mediaUrlStates(mediaIds: readonly string[]): Promise<MediaUrlState[]>
  /**
   * Writes fresh URLs (`media_url`, `thumbnail_url`, `url_expires_at`) onto the account's stored
   * rows of `items` and of their album children, matched by platform id: nothing else changes,
   * nothing is added or deleted, and a row whose URLs are the same is not written. Returns how
   * many rows changed (the gallery version moves with them).
   */
  refreshMediaUrls(accountId: string, items: readonly MediaInput[], now: number): Promise<number>

  /**
   * A number that changes, in the same transaction, with any change to the user's media or
   * accounts (database triggers): a media page rendered at a version is current while it stays.
   * 0 for an unknown user.
   */
  getGalleryVersion(userId: string): Promise<number>
}
