/**
 * @module providers/instagram/emulator/demo-data — deterministic demo accounts and media for the
 * sandbox, and the small SVG pictures the emulator's CDN serves for them (generated, no network, no
 * binaries).
 */
import { createHash } from 'node:crypto'
import { escapeHtml } from '../../../html.ts'
import type { EmulatorMedia, EmulatorUser, EmulatorAccountType } from './state.ts'

const CAPTIONS = [
  'Golden hour over the harbour',
  'New collection drop — link in bio',
  'Behind the scenes at the studio',
  'Sunday market finds',
  'Morning run, 10k done',
  'Recipe test #12: miso caramel',
  'Workshop day with the team',
  'Street art walk, part 2',
  'First snow of the season',
  'Packing orders all night',
  'Throwback to the summer tour',
  'Cat supervising the edit',
]

/** 17-digit ids, above 2^53 like Instagram's, so that any numeric parsing would corrupt them. */
export function instagramUserId(n: number): string {
  return `178414${String(57215396811 + n).padStart(11, '0')}`
}
export function scopedUserId(n: number): string {
  return `272813${String(58591558845 + n).padStart(11, '0')}`
}
export function mediaId(userIndex: number, n: number): string {
  return `179${String(userIndex).padStart(3, '0')}${String(20912340654 + n).padStart(11, '0')}`
}

const BASE_TIME = Date.UTC(2026, 9, 1, 12, 0, 0)

/** Media for a user: a repeating mix of images, reels and albums of 2-4 pictures. */
export function generateMedia(
  userIndex: number,
  username: string,
  count: number,
  startAt = 0,
): EmulatorMedia[] {
  const items: EmulatorMedia[] = []
  for (let i = startAt; i < startAt + count; i++) {
    const kind = i % 5
    const id = mediaId(userIndex, i * 10)
    const timestamp = BASE_TIME - i * 36 * 3_600_000 - userIndex * 600_000
    const base = {
      id,
      owner_index: userIndex,
      username,
      caption: `${CAPTIONS[i % CAPTIONS.length] ?? 'Hello'} #${i + 1}`,
      timestamp,
      shortcode: `C${createHash('sha256').update(id).digest('base64url').slice(0, 10)}`,
      like_count: (i * 37) % 500,
      comments_count: (i * 7) % 40,
      hue: (userIndex * 97 + i * 41) % 360,
    }
    if (kind === 2) {
      items.push({ ...base, media_type: 'VIDEO', media_product_type: 'REELS', children: [] })
    } else if (kind === 4) {
      const childCount = 2 + (i % 3)
      items.push({
        ...base,
        media_type: 'CAROUSEL_ALBUM',
        media_product_type: 'FEED',
        children: Array.from({ length: childCount }, (_, c) => ({
          ...base,
          id: mediaId(userIndex, i * 10 + c + 1),
          caption: null,
          media_type: c === 1 ? ('VIDEO' as const) : ('IMAGE' as const),
          media_product_type: 'FEED',
          hue: (base.hue + c * 53) % 360,
          children: [],
        })),
      })
    } else {
      items.push({ ...base, media_type: 'IMAGE', media_product_type: 'FEED', children: [] })
    }
  }
  return items
}

export function demoUsers(): EmulatorUser[] {
  const make = (
    index: number,
    username: string,
    account_type: EmulatorAccountType,
    mediaCount: number,
    name: string,
  ): EmulatorUser => ({
    index,
    id: scopedUserId(index),
    user_id: instagramUserId(index),
    username,
    name,
    account_type,
    followers_count: 1200 + index * 311,
    follows_count: 180 + index * 17,
    media: generateMedia(index, username, mediaCount),
  })
  return [
    make(1, 'sandbox_creator', 'MEDIA_CREATOR', 48, 'Sandbox Creator'),
    make(2, 'sandbox_shop', 'BUSINESS', 12, 'Sandbox Shop'),
    make(3, 'sandbox_personal', 'PERSONAL', 5, 'Sandbox Personal'),
  ]
}

/** A 1080×1080 picture for a media item: a gradient, its caption, and a play mark for videos. */
export function renderSvg(
  media: { hue: number; caption: string | null; media_type: string; username: string },
  label: string,
): string {
  const h2 = (media.hue + 40) % 360
  const play =
    media.media_type === 'VIDEO'
      ? '<circle cx="540" cy="540" r="120" fill="rgba(0,0,0,.35)"/><path d="M505 470 L620 540 L505 610 Z" fill="#fff"/>'
      : ''
  return `<svg xmlns="http://www.w3.org/2000/svg" width="1080" height="1080" viewBox="0 0 1080 1080">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${media.hue},70%,60%)"/><stop offset="1" stop-color="hsl(${h2},70%,38%)"/></linearGradient></defs>
<rect width="1080" height="1080" fill="url(#g)"/>${play}
<text x="60" y="980" font-family="sans-serif" font-size="44" fill="#fff">${escapeHtml((media.caption ?? label).slice(0, 40))}</text>
<text x="60" y="110" font-family="sans-serif" font-size="36" fill="rgba(255,255,255,.85)">@${escapeHtml(media.username)} · sandbox</text>
</svg>`
}
