/**
 * @module store/media-diff — what one page of media from the provider changes against what is
 * stored. Each item and album child is new (`added`), edited (`updated`), only re-signed
 * (`refreshed`: signed CDN URLs rotate by themselves, which is not an edit) or `unchanged`. Pure:
 * `upsertMediaPage` reads the stored rows of the page's ids, plans the page here, writes only the
 * rows that changed, and reports the tally.
 */
import type { MediaInput, MediaPageResult } from './types.ts'

export type MediaChange = 'added' | 'updated' | 'refreshed' | 'unchanged'

/** The columns an edit on the platform changes. */
export const MEDIA_CONTENT_COLUMNS = [
  'media_type',
  'media_product_type',
  'permalink',
  'caption',
  'timestamp',
  'position',
  'parent_id',
  'duration_seconds',
  'visibility',
] as const
/** Signed CDN URLs rotate by themselves: a change here alone is a refresh, not an edit. */
export const MEDIA_URL_COLUMNS = ['media_url', 'thumbnail_url', 'url_expires_at'] as const

/** The stored columns the diff compares (a `media` row has them all). */
export interface MediaContent {
  readonly media_type: string
  readonly media_product_type: string | null
  readonly media_url: string | null
  readonly thumbnail_url: string | null
  readonly url_expires_at: number | null
  readonly permalink: string | null
  readonly caption: string | null
  readonly timestamp: number
  /** Order within the album (0 for top-level media). */
  readonly position: number
  /** The album's record id, for album children; `null` for top-level media. */
  readonly parent_id: string | null
  readonly duration_seconds: number | null
  readonly visibility: string
}

/** A stored row, as far as the diff is concerned. */
export interface StoredMedia extends MediaContent {
  readonly id: string
}

/** The content to store for `item`, at `position` in the album `parentId` (`null`: top level). */
export function mediaContent(
  item: Omit<MediaInput, 'children'>,
  parentId: string | null,
  position: number,
): MediaContent {
  return {
    media_type: item.media_type,
    media_product_type: item.media_product_type,
    media_url: item.media_url,
    thumbnail_url: item.thumbnail_url,
    url_expires_at: item.url_expires_at,
    permalink: item.permalink,
    caption: item.caption,
    timestamp: item.timestamp,
    position,
    parent_id: parentId,
    duration_seconds: item.duration_seconds,
    visibility: item.visibility,
  }
}

/** What storing `next` over `stored` (`undefined`: nothing stored) changes. */
export function compareMedia(stored: MediaContent | undefined, next: MediaContent): MediaChange {
  if (stored === undefined) return 'added'
  if (!MEDIA_CONTENT_COLUMNS.every((column) => stored[column] === next[column])) return 'updated'
  return MEDIA_URL_COLUMNS.every((column) => stored[column] === next[column])
    ? 'unchanged'
    : 'refreshed'
}

/** One row of the page: its record id (new for an added item), what to store, what changed. */
export interface PlannedMedia {
  readonly id: string
  readonly item: Omit<MediaInput, 'children'>
  readonly content: MediaContent
  readonly change: MediaChange
}

/** A top-level item of the page with its album children, in the provider's order. */
export interface PlannedItem extends PlannedMedia {
  readonly children: readonly PlannedMedia[]
  /** An album now or when stored: its stored children not in `children` are to be removed. */
  readonly album: boolean
}

/**
 * Plans a page against the rows stored before it (`stored`, by platform media id): every
 * top-level item once, the first time the page lists it, with its children in album order. Rows
 * not stored yet get a record id from `newId`; stored ones keep theirs.
 */
export function planMediaPage(
  items: readonly MediaInput[],
  stored: ReadonlyMap<string, StoredMedia>,
  newId: () => string,
): PlannedItem[] {
  const plan = (
    item: Omit<MediaInput, 'children'>,
    parentId: string | null,
    position: number,
  ): PlannedMedia => {
    const existing = stored.get(item.platform_media_id)
    const content = mediaContent(item, parentId, position)
    return {
      id: existing?.id ?? newId(),
      item,
      content,
      change: compareMedia(existing, content),
    }
  }
  const done = new Set<string>()
  const planned: PlannedItem[] = []
  for (const item of items) {
    // an item listed twice in one page is stored once
    if (done.has(item.platform_media_id)) continue
    done.add(item.platform_media_id)
    const parent = plan(item, null, 0)
    planned.push({
      ...parent,
      children: item.children.map((child, position) => plan(child, parent.id, position)),
      album:
        item.media_type === 'CAROUSEL_ALBUM' ||
        stored.get(item.platform_media_id)?.media_type === 'CAROUSEL_ALBUM',
    })
  }
  return planned
}

/**
 * What a top-level item changed, counting its album: a new, edited or removed child is an edit
 * of the album, a re-signed child a refresh of it.
 */
export function itemChange(item: PlannedItem, removedChildren: number): MediaChange {
  if (item.change === 'added') return 'added'
  const children = item.children.map((child) => child.change)
  if (
    item.change === 'updated' ||
    children.some((change) => change === 'added' || change === 'updated') ||
    removedChildren > 0
  )
    return 'updated'
  if (item.change === 'refreshed' || children.includes('refreshed')) return 'refreshed'
  return 'unchanged'
}

/** The page's report from the change of each of its top-level items. */
export function tallyMediaPage(changes: readonly MediaChange[]): MediaPageResult {
  const count = (change: MediaChange): number => changes.filter((c) => c === change).length
  const added = count('added')
  return {
    added,
    updated: count('updated'),
    refreshed: count('refreshed'),
    known: changes.length - added,
  }
}
