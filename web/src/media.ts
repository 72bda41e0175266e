/**
 * @module web/media — pictures that fail (Instagram's signed URLs expire and then answer 403
 * "URL signature expired") become a placeholder at once, never a broken-image icon, and ask the
 * server to refresh that account's media, at most once a minute per account.
 */
import type { MediaChildJson, MediaJson } from './api.ts'
import { h } from './dom.ts'

export type RefreshRequest = (accountId: string) => void

/** The picture that stands for an item in the grid: a video's thumbnail, an album's first image. */
export function previewUrl(item: MediaJson): string | null {
  if (item.media_type === 'VIDEO') return item.thumbnail_url ?? item.media_url
  if (item.media_type === 'CAROUSEL_ALBUM') {
    const first = item.children[0]
    return (
      item.media_url ??
      (first ? (first.media_type === 'VIDEO' ? first.thumbnail_url : first.media_url) : null)
    )
  }
  return item.media_url
}

export function placeholder(text: string): HTMLElement {
  return h('span', { class: 'placeholder', role: 'img', 'aria-label': text }, text)
}

/** An <img> that swaps itself for a placeholder on error and asks for a refresh. */
export function picture(
  url: string | null,
  alt: string,
  size: number,
  accountId: string,
  onExpired: RefreshRequest,
  lazy = true,
): HTMLElement {
  if (url === null) return placeholder('No preview')
  const img = h('img', {
    src: url,
    alt,
    width: size,
    height: size,
    decoding: 'async',
    ...(lazy ? { loading: 'lazy' } : {}),
    referrerpolicy: 'no-referrer',
  })
  img.addEventListener(
    'error',
    () => {
      img.replaceWith(placeholder('Refreshing image…'))
      onExpired(accountId)
    },
    { once: true },
  )
  return img
}

/** The full view of one media (or album child) inside the lightbox. */
export function fullView(
  media: MediaJson | MediaChildJson,
  alt: string,
  accountId: string,
  onExpired: RefreshRequest,
): HTMLElement {
  if (media.media_type === 'VIDEO') {
    const video = h('video', {
      controls: true,
      preload: 'none',
      playsinline: true,
      ...(media.thumbnail_url ? { poster: media.thumbnail_url } : {}),
      'aria-label': alt,
    })
    if (media.media_url) video.src = media.media_url
    return video
  }
  return picture(media.media_url, alt, 1080, accountId, onExpired, false)
}
