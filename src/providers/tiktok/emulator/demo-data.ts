/**
 * @module providers/tiktok/emulator/demo-data — deterministic demo TikTok accounts and videos for
 * the sandbox, and the SVG pictures the emulator's CDN serves for them (generated, no network,
 * no binaries).
 *
 * - "Phoenix Pottery" (`@phoenixpottery`): 25 public videos, one every three days back from the
 *   clock at creation (more than one page of 20), and one private video that never lists.
 * - "Demo Viewer" (`@demoviewer`): an account with no videos at all.
 * - "Demo Studio" (`@demostudio`): three public videos and a private one.
 *
 * Ids are hashes of fixed labels: the same on every run, in TikTok's alphabets and lengths
 * (19-digit video ids; `open_id` and `union_id` as `-000` followed by letters and digits).
 */
import { createHash } from 'node:crypto'
import { escapeHtml } from '../../../html.ts'
import type { EmulatorVideo, Privacy, TiktokAccount } from './state.ts'

const DAY_S = 86_400

const TITLES = [
  'Throwing a tall vase',
  'Glaze reveal',
  'Trimming ASMR',
  'Wedging clay the easy way',
  'Kiln opening day',
  'Pulling handles',
  'Mug of the week',
  'Carving a fluted bowl',
  'Raku night',
  'Answering your questions',
]

function digest(label: string): Buffer {
  return createHash('sha256').update(label).digest()
}

/** A 19-digit TikTok item id from a label. */
export function videoIdFor(label: string): string {
  const n = digest(`video:${label}`).readBigUInt64BE(0) % 1_000_000_000_000_000_000n
  return (7_000_000_000_000_000_000n + n).toString()
}

/** An `open_id`-like id (`-000` + 28 letters and digits) from a label. */
export function openIdFor(kind: 'open' | 'union', label: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  const bytes = digest(`${kind}:${label}`)
  let out = '-000'
  for (let i = 0; i < 28; i++) out += alphabet[(bytes[i] ?? 0) % alphabet.length]
  return out
}

/** A video with defaults for whatever `fields` leaves out. */
export function makeVideo(
  fields: Partial<EmulatorVideo> & { id: string; title: string; createTime: number },
): EmulatorVideo {
  return {
    description: `${fields.title} #pottery #ceramics`,
    durationSeconds: 30,
    width: 1080,
    height: 1920,
    privacy: 'public',
    hue: 200,
    ...fields,
  }
}

function videos(
  label: string,
  nowS: number,
  publicCount: number,
  privateAt: readonly number[],
): EmulatorVideo[] {
  const total = publicCount + privateAt.length
  return Array.from({ length: total }, (_, i) => {
    const privacy: Privacy = privateAt.includes(i) ? 'private' : 'public'
    const title = `${TITLES[i % TITLES.length] ?? 'Clip'} ${total - i}`
    return makeVideo({
      id: videoIdFor(`${label}-${i}`),
      title: privacy === 'private' ? `Draft: ${title}` : title,
      createTime: nowS - (i * 3 + 1) * DAY_S,
      durationSeconds: 8 + ((i * 37) % 170),
      privacy,
      hue: (i * 47) % 360,
    })
  })
}

export function makeAccount(
  index: number,
  label: string,
  fields: Pick<TiktokAccount, 'username' | 'displayName' | 'bio'>,
  videoList: EmulatorVideo[],
): TiktokAccount {
  return {
    index,
    openId: openIdFor('open', label),
    unionId: openIdFor('union', label),
    verified: false,
    followerCount: 1_000 + index * 137,
    followingCount: 50 + index,
    likesCount: 20_000 + index * 911,
    hue: (index * 97) % 360,
    ...fields,
    videos: videoList,
  }
}

/** The demo accounts, dated back from `now` (ms). */
export function demoAccounts(now: number): TiktokAccount[] {
  const nowS = Math.floor(now / 1000)
  return [
    makeAccount(
      1,
      'phoenixpottery',
      {
        username: 'phoenixpottery',
        displayName: 'Phoenix Pottery',
        bio: 'Wheel-thrown stoneware, studio life.',
      },
      // 25 public videos and one private (the 4th newest) that never lists
      videos('phoenixpottery', nowS, 25, [3]),
    ),
    makeAccount(
      2,
      'demoviewer',
      { username: 'demoviewer', displayName: 'Demo Viewer', bio: '' },
      [],
    ),
    makeAccount(
      3,
      'demostudio',
      { username: 'demostudio', displayName: 'Demo Studio', bio: 'A second studio.' },
      videos('demostudio', nowS, 3, [1]),
    ),
  ]
}

/** A portrait cover for a video: its hue and title. */
export function renderCoverSvg(video: EmulatorVideo, owner: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="540" height="960" viewBox="0 0 540 960"><rect width="540" height="960" fill="hsl(${video.hue} 55% 40%)"/><text x="40" y="820" font-family="sans-serif" font-size="36" fill="#fff">${escapeHtml(video.title)}</text><text x="40" y="870" font-family="sans-serif" font-size="26" fill="#fff">@${escapeHtml(owner)} · ${video.durationSeconds}s</text></svg>`
}

/** A round avatar with the account's initial. */
export function renderAvatarSvg(account: TiktokAccount, px: number): string {
  const initial = escapeHtml([...account.displayName][0] ?? '?')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${px}" height="${px}" viewBox="0 0 100 100"><circle cx="50" cy="50" r="50" fill="hsl(${account.hue} 60% 45%)"/><text x="50" y="66" text-anchor="middle" font-family="sans-serif" font-size="46" fill="#fff">${initial}</text></svg>`
}
