/**
 * @module web/media — what a tile says about a video (length, Shorts, Live, who may watch it),
 * the full view of one media in the viewer (pictures and videos from our own archive:
 * `web/archive.ts`), and the platform's own player for videos that have no file of their own
 * (YouTube's and TikTok's, when reached for real; else the archived cover and a link).
 */
import type { MediaChildJson, MediaJson } from './api.ts'
import { archivedPicture, posterUrl, videoProblem } from './archive.ts'
import { h } from './dom.ts'
import {
  hasPlayer,
  isSandboxed,
  platformLabel,
  playerFrame,
  playerUrl,
  playsHereForReal,
  viewLabel,
} from './platforms.ts'

/** How wide the viewer shows a picture (the archive's 1080 size on most screens). */
export const VIEWER_SIZES = '(max-width: 1080px) 100vw, 1080px'

/** An animated GIF (X's `animated_gif`: a short silent MP4 that loops). */
export function isGif(media: MediaJson | MediaChildJson): boolean {
  return 'media_product_type' in media && media.media_product_type === 'ANIMATED_GIF'
}

/**
 * The full view of one media (or album child) inside the lightbox, from the archive. A video
 * plays its archived file with the poster; a GIF loops muted on its own, with no controls, as on
 * its platform; a video the archive does not hold (yet) shows its poster and why.
 */
export function fullView(media: MediaJson | MediaChildJson, alt: string): HTMLElement {
  const archive = media.archive
  if (media.media_type === 'VIDEO') {
    const problem = videoProblem(archive)
    if (problem !== null)
      return h(
        'figure',
        { class: 'player-off' },
        archivedPicture(archive, alt, { sizes: VIEWER_SIZES, lazy: false, fit: 'contain' }),
        h('figcaption', {}, problem),
      )
    const gif = isGif(media)
    const poster = posterUrl(archive)
    const video = h('video', {
      ...(gif ? { autoplay: true, loop: true, muted: true } : { controls: true, preload: 'none' }),
      playsinline: true,
      ...(poster === null ? {} : { poster }),
      'aria-label': alt,
    })
    // the attribute alone does not mute an element made by script (autoplay needs it muted)
    video.muted = gif
    video.src = archive.video?.url ?? ''
    return video
  }
  return archivedPicture(archive, alt, { sizes: VIEWER_SIZES, lazy: false, fit: 'contain' })
}

/** A video's length as players show it: `m:ss`, or `h:mm:ss` from an hour on. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds))
  const two = (n: number): string => String(n).padStart(2, '0')
  const hours = Math.floor(total / 3600)
  const minutes = Math.floor(total / 60) % 60
  return hours > 0 ? `${hours}:${two(minutes)}:${two(total % 60)}` : `${minutes}:${two(total % 60)}`
}

/** The same length in words, for screen readers ("1 hour 2 minutes 5 seconds"). */
export function spokenDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds))
  const parts: [number, string][] = [
    [Math.floor(total / 3600), 'hour'],
    [Math.floor(total / 60) % 60, 'minute'],
    [total % 60, 'second'],
  ]
  const words = parts.filter(([n]) => n > 0).map(([n, unit]) => `${n} ${unit}${n === 1 ? '' : 's'}`)
  return words.length > 0 ? words.join(' ') : '0 seconds'
}

/** The item's length when its platform gave one. */
export function durationOf(item: MediaJson): number | null {
  return typeof item.duration_seconds === 'number' && item.duration_seconds >= 0
    ? item.duration_seconds
    : null
}

/** "Unlisted" or "Private" for media not everyone may watch on their platform; else `null`. */
export function restriction(item: MediaJson): 'Unlisted' | 'Private' | null {
  return item.visibility === 'private'
    ? 'Private'
    : item.visibility === 'unlisted'
      ? 'Unlisted'
      : null
}

/** What the privacy badge's tooltip explains (only the owner ever sees this gallery). */
export function restrictionNote(item: MediaJson, platform: string): string | null {
  const on = platform === '' ? '' : ` on ${platformLabel(platform)}`
  return item.visibility === 'private'
    ? `Private${on}: only you see it here`
    : item.visibility === 'unlisted'
      ? `Unlisted${on}: only people with the link can watch it; only you see it here`
      : null
}

/**
 * The tile's badges: album / video mark (top right), privacy and Shorts / Live (top left), length
 * (bottom right). They are drawn text on solid backgrounds, hidden from screen readers because
 * the tile's own label says the same (`describe`).
 */
export function tileBadges(item: MediaJson, platform: string): HTMLElement[] {
  const badges: HTMLElement[] = []
  const gif = isGif(item)
  if (item.media_type === 'VIDEO')
    badges.push(h('span', { class: 'tile-badge', 'aria-hidden': 'true' }, gif ? 'GIF' : '▶'))
  else if (item.media_type === 'CAROUSEL_ALBUM')
    badges.push(
      h('span', { class: 'tile-badge', 'aria-hidden': 'true' }, `❐ ${item.children.length}`),
    )
  const flags: HTMLElement[] = []
  const hidden = restriction(item)
  if (hidden !== null)
    flags.push(
      h(
        'span',
        {
          class: `tile-flag ${hidden.toLowerCase()}`,
          title: restrictionNote(item, platform) ?? undefined,
        },
        hidden,
      ),
    )
  if (item.media_product_type === 'SHORTS')
    flags.push(h('span', { class: 'tile-flag shorts' }, 'Shorts'))
  else if (item.media_product_type === 'LIVE')
    flags.push(
      h('span', { class: 'tile-flag live', title: 'A recorded live stream (replay)' }, 'Live'),
    )
  if (flags.length > 0)
    badges.push(h('span', { class: 'tile-flags', 'aria-hidden': 'true' }, ...flags))
  const seconds = durationOf(item)
  if (item.media_type === 'VIDEO' && !gif && seconds !== null)
    badges.push(
      h('span', { class: 'tile-duration', 'aria-hidden': 'true' }, formatDuration(seconds)),
    )
  return badges
}

/**
 * A video with no file of its own (YouTube's, TikTok's), in the lightbox: the platform's player in
 * a frame when the server gave its address (real mode), else the archived poster and why it does
 * not play here. The frame goes when the lightbox closes or moves on, which stops playback.
 */
export function playerView(item: MediaJson, platform: string, alt: string): HTMLElement {
  const src = playerUrl(platform, item.platform_media_id)
  const label = platformLabel(platform)
  if (src !== null) {
    // YouTube's player as it is; another platform's (TikTok's) as its registry entry says:
    // portrait whatever the post, its own `allow` tokens, sandboxed
    const frame = playerFrame(platform)
    const portrait = frame?.portrait ?? item.media_product_type === 'SHORTS'
    return h('iframe', {
      class: portrait ? 'player portrait' : 'player',
      // the sandbox before the address (it applies from the frame's first navigation)
      ...(frame === null ? {} : { sandbox: frame.sandbox }),
      src,
      title: `${label} video: ${alt.split('\n')[0]?.slice(0, 100) ?? ''}`,
      allow: frame?.allow ?? 'autoplay; encrypted-media; picture-in-picture; fullscreen',
      allowfullscreen: true,
      referrerpolicy: 'strict-origin-when-cross-origin',
      loading: 'lazy',
    })
  }
  const why = hasPlayer(platform)
    ? 'This video cannot be played here.'
    : isSandboxed(platform) && playsHereForReal(platform)
      ? `Playback needs real ${label}; this is the sandbox.`
      : label
        ? `${label} videos play on ${label}.`
        : 'This video plays on its platform.'
  return h(
    'figure',
    { class: 'player-off' },
    archivedPicture(item.archive, alt, { sizes: VIEWER_SIZES, lazy: false, fit: 'contain' }),
    h('figcaption', {}, `${why} Use “${viewLabel(platform)}” below to watch it.`),
  )
}
