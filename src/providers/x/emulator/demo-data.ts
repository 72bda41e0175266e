/**
 * @module providers/x/emulator/demo-data — the emulator's demo world, dated from "now": two X
 * accounts. `@ada_demo` has 130 posts (more than a page of 100) mixing text-only posts, one
 * photo, two to four photos, a video, a GIF, replies and reposts; `@grace_demo` has a dozen.
 * Ids are snowflakes (time in the high bits, like X's), so newer posts have greater ids; the
 * pictures are generated SVG (`renderMediaSvg`), the videos a few placeholder bytes.
 */
import { escapeHtml } from '../../../html.ts'
import type { EmulatorMedia, EmulatorMediaType, EmulatorPost, XAccount } from './state.ts'

/** X's snowflake epoch (2010-11-04T01:42:54.657Z). */
const SNOWFLAKE_EPOCH = 1_288_834_974_657n

/** A snowflake id for `ms`, `seq` telling apart ids of the same millisecond. */
export function snowflake(ms: number, seq: number): string {
  const t = BigInt(Math.max(0, Math.floor(ms))) - SNOWFLAKE_EPOCH
  return ((t < 0n ? 0n : t) * 4_194_304n + BigInt(seq % 4_194_304)).toString()
}

/** Media key prefixes by type (providers.md §3.3: 3_ photo, 7_ video, 16_ GIF, UNCONFIRMED). */
const KEY_PREFIX: Record<EmulatorMediaType, string> = { photo: '3', video: '7', animated_gif: '16' }

export function makeMedia(
  type: EmulatorMediaType,
  at: number,
  seq: number,
  hue: number,
): EmulatorMedia {
  return {
    key: `${KEY_PREFIX[type]}_${snowflake(at, seq)}`,
    type,
    width: type === 'photo' ? 1200 : 1280,
    height: type === 'photo' ? 800 : 720,
    durationMs: type === 'video' ? 6_000 + ((seq * 7_919) % 120_000) : null,
    altText: type === 'photo' && seq % 3 === 0 ? `Demo picture ${seq}` : null,
    hue,
  }
}

/** What one generated post of an account is, by its position. */
function shapeOf(i: number): { media: EmulatorMediaType[]; reply: boolean; retweet: boolean } {
  switch (i % 10) {
    case 1:
    case 7:
      return { media: ['photo'], reply: false, retweet: false }
    case 2:
      return {
        media: Array.from({ length: 2 + (i % 3) }, () => 'photo'),
        reply: false,
        retweet: false,
      }
    case 3:
    case 9:
      return { media: ['video'], reply: false, retweet: false }
    case 4:
      return { media: ['animated_gif'], reply: false, retweet: false }
    case 5:
      // a reply with a photo: left out by exclude=replies, media or not
      return { media: ['photo'], reply: true, retweet: false }
    case 6:
      return { media: ['video'], reply: false, retweet: true }
    default:
      return { media: [], reply: false, retweet: false }
  }
}

const HOUR = 3_600_000

/**
 * `count` posts of an account, newest first, one every 7 hours back from `now`. `seqBase` keeps
 * ids apart between accounts.
 */
export function generatePosts(
  count: number,
  now: number,
  seqBase: number,
  label: string,
): EmulatorPost[] {
  return Array.from({ length: count }, (_, i) => {
    const at = now - (i * 7 + 1) * HOUR
    const shape = shapeOf(i)
    const n = count - i
    const text = shape.retweet
      ? `RT @someone: reposted clip ${n}`
      : shape.reply
        ? `@someone thanks! ${label} reply ${n}`
        : shape.media.length === 0
          ? `${label} thought number ${n}`
          : `${label} post ${n} https://t.co/demo${n}`
    return {
      id: snowflake(at, seqBase + i),
      text,
      createdAt: at,
      reply: shape.reply,
      retweet: shape.retweet,
      media: shape.media.map((type, j) =>
        makeMedia(type, at, seqBase + i * 8 + j + 1, (i * 37 + j * 61) % 360),
      ),
    }
  })
}

export function demoAccounts(now: number): XAccount[] {
  return [
    {
      index: 1,
      id: '1500000000000000001',
      name: 'Ada Demo',
      username: 'ada_demo',
      followers: 4_210,
      hue: 200,
      posts: generatePosts(130, now, 0, 'Ada'),
    },
    {
      index: 2,
      id: '1500000000000000002',
      name: 'Grace Demo',
      username: 'grace_demo',
      followers: 87,
      hue: 320,
      posts: generatePosts(12, now, 100_000, 'Grace'),
    },
  ]
}

/** A generated picture (photos, video stills, avatars), as SVG. */
export function renderMediaSvg(label: string, hue: number, width: number, height: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="hsl(${hue} 60% 45%)"/><text x="50%" y="50%" fill="#fff" font-family="sans-serif" font-size="${Math.round(height / 12)}" text-anchor="middle">${escapeHtml(label)}</text></svg>`
}
