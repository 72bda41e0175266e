/**
 * @module http/presenters — the API's JSON shapes. Accounts keep the seed's `user_social_accounts`
 * snake_case fields, minus the token; times are ISO 8601 strings.
 */
import type {
  ArchiveRecord,
  MediaRecord,
  MediaVisibility,
  MediaWithChildren,
  SocialAccountRecord,
  VideoArchiveState,
} from '../store/types.ts'
import { originalUrl, variantUrl } from '../archive/keys.ts'

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

export interface AccountJson {
  id: string
  user_id: string
  platform: string
  account_type: 'oauth' | 'public'
  username: string
  display_name: string
  /** The platform's id of the account (every platform). */
  platform_user_id: string | null
  /** The same id on Instagram rows (the original app's field); `null` on other platforms. */
  instagram_user_id: string | null
  /** `BUSINESS` or `MEDIA_CREATOR` on Instagram rows; `null` on other platforms. */
  instagram_account_type: string | null
  token_expires_at: string | null
  is_active: boolean
  connected_at: string | null
  last_sync: string | null
  posts_count: number | null
  status: string
  status_message: string | null
  needs_reconnect: boolean
  /** Another request or the scheduler is syncing this account right now. */
  sync_in_progress: boolean
  next_sync_at: string | null
  last_full_sync: string | null
  profile_url: string
  profile_picture_url: string | null
}

/** One derived size of an archived picture, served from our origin. */
export interface ArchiveSizeJson {
  width: number
  height: number
  format: 'avif' | 'webp' | 'jpeg'
  url: string
}

/** An item's copy in the media archive (issue 16). */
export interface ArchiveJson {
  /** `pending` until archived (also before the archive saw the item), `failed` with a reason. */
  state: 'pending' | 'stored' | 'failed'
  reason: string | null
  width: number | null
  height: number | null
  /** ThumbHash (base64): a placeholder to paint before any byte of the picture arrives. */
  placeholder: string | null
  /** Dominant colour, `#rrggbb`. */
  color: string | null
  /** The original picture. */
  original_url: string | null
  sizes: ArchiveSizeJson[]
  /** A video's own copy; `null` for pictures. */
  video: { state: VideoArchiveState; url: string | null; reason: string | null } | null
}

export interface MediaChildJson {
  id: string
  platform_media_id: string
  media_type: string
  media_url: string | null
  thumbnail_url: string | null
  archive: ArchiveJson
}

/** The archive of each media item by id (`ArchiveStore.getArchives`). */
export type ArchiveIndex = ReadonlyMap<string, ArchiveRecord>

export function presentArchive(record: ArchiveRecord | undefined, isVideo: boolean): ArchiveJson {
  if (record === undefined)
    return {
      state: 'pending',
      reason: null,
      width: null,
      height: null,
      placeholder: null,
      color: null,
      original_url: null,
      sizes: [],
      video: isVideo ? { state: 'pending', url: null, reason: null } : null,
    }
  const sha = record.state === 'stored' ? record.sha256 : null
  return {
    state: record.state,
    reason: record.reason,
    width: record.width,
    height: record.height,
    placeholder: record.thumbhash,
    color: record.color,
    original_url: sha === null ? null : originalUrl(sha),
    sizes:
      sha === null
        ? []
        : record.variants.map((v) => ({
            width: v.width,
            height: v.height,
            format: v.format,
            url: variantUrl(sha, v.width, v.format),
          })),
    video:
      record.video_state === 'none' && !isVideo
        ? null
        : {
            state: record.video_state,
            url:
              record.video_state === 'stored' && record.video_sha256 !== null
                ? originalUrl(record.video_sha256)
                : null,
            reason: record.video_reason,
          },
  }
}

export interface MediaJson extends MediaChildJson {
  account_id: string
  media_product_type: string | null
  permalink: string | null
  caption: string | null
  timestamp: string
  /** A video's length when its platform says (YouTube). */
  duration_seconds: number | null
  /** Who may see it on its platform: `public`, `unlisted` or `private` (YouTube). */
  visibility: MediaVisibility
  children: MediaChildJson[]
}

export function presentAccount(account: SocialAccountRecord, now: number): AccountJson {
  return {
    id: account.id,
    user_id: account.user_id,
    platform: account.platform,
    account_type: account.account_type,
    username: account.username,
    display_name: account.display_name,
    platform_user_id: account.platform_user_id,
    instagram_user_id: account.platform === 'instagram' ? account.platform_user_id : null,
    instagram_account_type:
      account.platform === 'instagram' ? (account.platform_attributes.account_type ?? null) : null,
    // when the connection stops working without a reconnect: Instagram's token, or a refresh
    // token's end (YouTube's one-hour access tokens are renewed quietly: not an expiry to show)
    token_expires_at: iso(account.credentials_expire_at),
    is_active: account.is_active,
    connected_at: iso(account.connected_at),
    last_sync: iso(account.last_sync),
    posts_count: account.posts_count,
    status: account.status,
    status_message: account.status_message,
    needs_reconnect: account.status === 'reauth_required' || account.status === 'revoked',
    sync_in_progress: account.sync_lease_until !== null && account.sync_lease_until > now,
    next_sync_at: account.account_type === 'oauth' ? iso(account.next_sync_at) : null,
    last_full_sync: iso(account.last_full_sync),
    profile_url: account.profile_url,
    profile_picture_url: account.profile_picture_url,
  }
}

function presentChild(media: MediaRecord, archives: ArchiveIndex): MediaChildJson {
  return {
    id: media.id,
    platform_media_id: media.platform_media_id,
    media_type: media.media_type,
    media_url: media.media_url,
    thumbnail_url: media.thumbnail_url,
    archive: presentArchive(archives.get(media.id), media.media_type === 'VIDEO'),
  }
}

export function presentMedia(
  media: MediaWithChildren,
  archives: ArchiveIndex = new Map(),
): MediaJson {
  return {
    id: media.id,
    account_id: media.account_id,
    platform_media_id: media.platform_media_id,
    media_type: media.media_type,
    media_product_type: media.media_product_type,
    media_url: media.media_url,
    thumbnail_url: media.thumbnail_url,
    permalink: media.permalink,
    caption: media.caption,
    timestamp: new Date(media.timestamp).toISOString(),
    duration_seconds: media.duration_seconds,
    visibility: media.visibility,
    archive: presentArchive(archives.get(media.id), media.media_type === 'VIDEO'),
    children: media.children.map((child) => presentChild(child, archives)),
  }
}

/** Opaque keyset cursor: base64url of `[number, id]` (the sort key and id of a page's last row). */
function encodeKeyset(key: number, id: string): string {
  return Buffer.from(JSON.stringify([key, id])).toString('base64url')
}

function decodeKeyset(cursor: string): [number, string] | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (!Array.isArray(value) || value.length !== 2) return null
    const [key, id] = value as unknown[]
    if (
      typeof key !== 'number' ||
      !Number.isSafeInteger(key) ||
      typeof id !== 'string' ||
      !/^[0-9a-f-]{36}$/.test(id)
    )
      return null
    return [key, id]
  } catch {
    return null
  }
}

/** Media pages: newest first by `timestamp`. */
export function encodeCursor(media: { timestamp: number; id: string }): string {
  return encodeKeyset(media.timestamp, media.id)
}

export function decodeCursor(cursor: string): { timestamp: number; id: string } | null {
  const keyset = decodeKeyset(cursor)
  return keyset === null ? null : { timestamp: keyset[0], id: keyset[1] }
}

/** Account pages: oldest connection first. */
export function encodeAccountCursor(account: { connected_at: number; id: string }): string {
  return encodeKeyset(account.connected_at, account.id)
}

export function decodeAccountCursor(cursor: string): { connected_at: number; id: string } | null {
  const keyset = decodeKeyset(cursor)
  return keyset === null ? null : { connected_at: keyset[0], id: keyset[1] }
}
