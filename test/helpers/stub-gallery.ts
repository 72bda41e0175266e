/**
 * What the browser specs that stub the gallery's API (`page.route`) share: accounts, media items
 * with their archive (stored, pending or failed, as `presentArchive` shapes it), and the routes
 * that answer the archive's poll and serve the stub pictures (real small JPEG and WebP made with
 * sharp, so `<picture>` loads them as it would the archive's) and videos.
 */
import sharp from 'sharp'
import type { Page, Route } from 'playwright-core'
import type { AccountJson, MediaJson, PlatformJson } from '../../web/src/api.ts'
import { presentArchive } from '../../src/http/presenters.ts'

export type ArchiveJson = MediaJson['archive']

/** The stub pictures' shapes, in the archive's test widths (48 and 96). */
const SHAPES = {
  landscape: { ratio: 3 / 4, color: '#f3f3f3' },
  portrait: { ratio: 16 / 9, color: '#fafafa' },
} as const
export type Shape = keyof typeof SHAPES
const WIDTHS = [48, 96] as const

export const ICON = 'M4 4h16v16H4z'

export function platformsJson(entries: readonly (readonly [string, string])[]): PlatformJson[] {
  return entries.map(([platform, label]) => ({
    platform,
    label,
    view_label: `View on ${label}`,
    icon_path: ICON,
  }))
}

export function stubAccount(
  id: string,
  platform: string,
  username: string,
  posts = 3,
): AccountJson {
  return {
    id,
    user_id: 'u1',
    platform,
    account_type: 'oauth',
    username,
    display_name: username,
    platform_user_id: `${platform}-1`,
    instagram_user_id: platform === 'instagram' ? `${platform}-1` : null,
    instagram_account_type: platform === 'instagram' ? 'MEDIA_CREATOR' : null,
    token_expires_at: null,
    is_active: true,
    connected_at: '2026-11-30T10:00:00.000Z',
    last_sync: '2026-12-01T10:00:00.000Z',
    posts_count: posts,
    status: 'active',
    status_message: null,
    needs_reconnect: false,
    sync_in_progress: false,
    next_sync_at: '2026-12-02T10:00:00.000Z',
    last_full_sync: '2026-12-01T10:00:00.000Z',
    profile_url: `https://example.com/${username}`,
    profile_picture_url: null,
  }
}

/**
 * A stored archive whose sizes are the stub route's pictures (`/stub-media/<shape>.<format>?<tag>
 * &w=<width>`), JPEG and WebP; with `video`, the archived copy of a video (its URL), or the word
 * `none` for a video with no file of its own (YouTube's, TikTok's).
 */
export function storedArchive(shape: Shape, tag: string, video?: string): ArchiveJson {
  const { ratio, color } = SHAPES[shape]
  const url = (format: string, width: number): string =>
    `/stub-media/${shape}.${format}?${tag}&w=${width}`
  const largest = WIDTHS.at(-1) ?? 96
  return {
    state: 'stored',
    reason: null,
    width: largest,
    height: Math.round(largest * ratio),
    placeholder: null,
    color,
    original_url: url('jpeg', largest),
    sizes: WIDTHS.flatMap((width) =>
      (['webp', 'jpeg'] as const).map((format) => ({
        width,
        height: Math.round(width * ratio),
        format,
        url: url(format, width),
      })),
    ),
    video:
      video === undefined
        ? null
        : video === 'none'
          ? { state: 'none', url: null, reason: null }
          : { state: 'stored', url: video, reason: null },
  }
}

/** Not archived yet (the page shows "Archiving…" and asks again). */
export function pendingArchive(isVideo = false): ArchiveJson {
  return presentArchive(undefined, isVideo)
}

/** The archive gave up on it (the page shows "Not archived", the reason as its title). */
export function failedArchive(reason: string, isVideo = false): ArchiveJson {
  return { ...presentArchive(undefined, isVideo), state: 'failed', reason }
}

/** The `<img src>` the page gives a stored archive of the stub's: its widest JPEG. */
export function stubJpegUrl(archive: ArchiveJson): string | null {
  const jpegs = archive.sizes.filter((s) => s.format === 'jpeg').sort((a, b) => a.width - b.width)
  return jpegs.at(-1)?.url ?? null
}

const pictures = new Map<string, Promise<Buffer>>()
function picture(shape: Shape, format: 'jpeg' | 'webp', width: number): Promise<Buffer> {
  const key = `${shape}.${format}.${width}`
  let bytes = pictures.get(key)
  if (bytes === undefined) {
    const { ratio, color } = SHAPES[shape]
    const image = sharp({
      create: { width, height: Math.round(width * ratio), channels: 3, background: color },
    })
    bytes = (format === 'jpeg' ? image.jpeg() : image.webp()).toBuffer()
    pictures.set(key, bytes)
  }
  return bytes
}

export function json(route: Route, body: unknown, status = 200): Promise<void> {
  return route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) })
}

/**
 * The stub's media files under `${base}/stub-media/`: pictures as their name says
 * (`portrait|landscape` . `jpeg|webp`, `w=` their width), MP4s empty (each recorded in
 * `videoRequests`).
 */
export async function routeStubMedia(
  page: Page,
  base: string,
  videoRequests: string[] = [],
): Promise<void> {
  await page.route(`${base}/stub-media/**`, async (route) => {
    const url = new URL(route.request().url())
    const path = url.pathname
    if (path.endsWith('.mp4')) {
      videoRequests.push(path)
      return route.fulfill({ status: 200, contentType: 'video/mp4', body: Buffer.alloc(0) })
    }
    const shape: Shape = path.includes('portrait') ? 'portrait' : 'landscape'
    const format = path.endsWith('.webp') ? 'webp' : 'jpeg'
    const width = Number(url.searchParams.get('w') ?? '96') || 96
    return route.fulfill({
      status: 200,
      contentType: `image/${format}`,
      body: await picture(shape, format, width),
    })
  })
}

/**
 * `GET /api/socials/media/archive?ids=…` (the page's poll for items still pending): each asked
 * id's archive as `media()` holds it now (a child's too).
 */
export async function routeArchivePoll(
  page: Page,
  base: string,
  media: () => readonly MediaJson[],
  asked: string[][] = [],
): Promise<void> {
  await page.route(`${base}/api/socials/media/archive*`, (route) => {
    const ids = (new URL(route.request().url()).searchParams.get('ids') ?? '')
      .split(',')
      .filter(Boolean)
    asked.push(ids)
    const all = media().flatMap((m) => [m, ...m.children])
    const archives: Record<string, ArchiveJson> = {}
    for (const id of ids) {
      const found = all.find((m) => m.id === id)
      if (found !== undefined) archives[id] = found.archive
    }
    return json(route, { archives })
  })
}
