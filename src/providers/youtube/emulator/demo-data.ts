/**
 * @module providers/youtube/emulator/demo-data — deterministic demo Google accounts, channels and
 * videos for the sandbox, and the SVG pictures the emulator's CDN serves for them (generated, no
 * network, no binaries).
 *
 * - "Demo Creator" owns "Phoenix Demo Channel" (`@phoenixdemo`): 30 videos, one every four days
 *   back from the clock at creation, newest first: 6 Shorts (at most 59 s, portrait), one past
 *   live broadcast (a replay), one unlisted, one private, the rest public with varied durations,
 *   HD (maxres thumbnails) or not.
 * - "Demo Viewer" has a Google account but no YouTube channel (the no-channel outcome).
 * - "Demo Studio" owns a small second channel whose private video nobody else sees.
 *
 * Ids are hashes of fixed labels: the same on every run, in YouTube's alphabet and lengths.
 */
import { createHash } from 'node:crypto'
import { escapeHtml } from '../../../html.ts'
import type { EmulatorChannel, EmulatorVideo, GoogleAccount, LiveKind, Privacy } from './state.ts'

const DAY_MS = 86_400_000

const TITLES = [
  'Throwing a tall cylinder',
  'Studio tour 2026',
  'Glaze test results: 12 blues',
  'How I wedge clay',
  'Trimming a foot ring',
  'Kiln unload after the long firing',
  'Handles that stay on',
  'A week of mugs',
  'Reclaiming scraps',
  'Carving a fluted bowl',
  'Raku night with friends',
  'Answering your questions',
]

const SHORT_TITLES = [
  'Centering in 30 seconds #shorts',
  'Satisfying trim #shorts',
  'Glaze dip #shorts',
  'Pulling a handle #shorts',
  'Kiln peek #shorts',
  'Stamp test #shorts',
]

/** A YouTube-alphabet id of `length` characters, from a label. */
function hashId(label: string, length: number): string {
  return createHash('sha256').update(label).digest('base64url').slice(0, length)
}

export function videoId(label: string): string {
  return hashId(`video:${label}`, 11)
}

export function channelId(label: string): string {
  return `UC${hashId(`channel:${label}`, 22)}`
}

/** The uploads playlist of a channel: `UU` + the channel id without its `UC`. */
export function uploadsPlaylistId(channel: string): string {
  return `UU${channel.slice(2)}`
}

/** A video with defaults for whatever `fields` leaves out. */
export function makeVideo(
  fields: Partial<EmulatorVideo> & { id: string; title: string; publishedAt: number },
): EmulatorVideo {
  return {
    description: '',
    durationSeconds: 300,
    privacy: 'public',
    live: 'none',
    short: false,
    hd: true,
    scheduledStart: null,
    actualStart: null,
    actualEnd: null,
    viewCount: 0,
    hue: 200,
    ...fields,
  }
}

function creatorVideos(now: number): EmulatorVideo[] {
  const shorts = new Map([1, 5, 9, 14, 19, 24].map((at, n) => [at, n]))
  const videos: EmulatorVideo[] = []
  for (let i = 0; i < 30; i++) {
    const publishedAt = now - (i * 4 + 1) * DAY_MS - (i % 5) * 3_600_000
    const base = {
      id: videoId(`demo-creator-${i}`),
      publishedAt,
      viewCount: 120 + ((i * 7919) % 40_000),
      hue: (i * 41) % 360,
    }
    const shortIndex = shorts.get(i)
    if (shortIndex !== undefined) {
      videos.push(
        makeVideo({
          ...base,
          title: SHORT_TITLES[shortIndex] ?? 'Short #shorts',
          description: 'A minute at the wheel.',
          durationSeconds: 15 + shortIndex * 8,
          short: true,
          hd: false,
        }),
      )
      continue
    }
    let privacy: Privacy = 'public'
    let live: LiveKind = 'none'
    let title = `${TITLES[i % TITLES.length] ?? 'Video'} (part ${Math.floor(i / TITLES.length) + 1})`
    let durationSeconds = 95 + ((i * 613) % 2400)
    const extra: Partial<EmulatorVideo> = {}
    if (i === 3) privacy = 'private'
    if (i === 11) privacy = 'unlisted'
    if (i === 7) {
      live = 'replay'
      title = 'Live: kiln opening night'
      durationSeconds = 2 * 3600 + 28
      extra.scheduledStart = publishedAt
      extra.actualStart = publishedAt + 12_000
      extra.actualEnd = publishedAt + 12_000 + durationSeconds * 1000
    }
    videos.push(
      makeVideo({
        ...base,
        ...extra,
        title,
        description: `${title}. Filmed in the Phoenix demo studio.\nNothing here is real YouTube data.`,
        durationSeconds,
        privacy,
        live,
        hd: i % 3 !== 2,
      }),
    )
  }
  return videos
}

function studioVideos(now: number): EmulatorVideo[] {
  return [0, 1, 2, 3].map((i) =>
    makeVideo({
      id: videoId(`demo-studio-${i}`),
      title: i === 1 ? 'Private draft: new logo' : `Studio update ${4 - i}`,
      description: 'The second demo channel.',
      publishedAt: now - (i * 9 + 2) * DAY_MS,
      durationSeconds: 240 + i * 61,
      privacy: i === 1 ? 'private' : 'public',
      hd: i !== 2,
      hue: 20 + i * 70,
    }),
  )
}

export function makeChannel(
  label: string,
  title: string,
  handle: string,
  publishedAt: number,
  videos: EmulatorVideo[],
  hue: number,
): EmulatorChannel {
  return {
    id: channelId(label),
    title,
    customUrl: `@${handle}`,
    description: `${title}: a demo channel of the Phoenix Social Gallery sandbox.`,
    publishedAt,
    subscriberCount: 1290 + hue,
    hiddenSubscriberCount: false,
    hue,
    videos,
  }
}

/** The demo accounts, their videos dated back from `now`. */
export function demoAccounts(now: number): GoogleAccount[] {
  return [
    {
      index: 1,
      email: 'demo.creator@example.com',
      name: 'Demo Creator',
      channel: makeChannel(
        'phoenixdemo',
        'Phoenix Demo Channel',
        'phoenixdemo',
        Date.UTC(2019, 3, 12, 9, 30),
        creatorVideos(now),
        12,
      ),
    },
    { index: 2, email: 'demo.viewer@example.com', name: 'Demo Viewer', channel: null },
    {
      index: 3,
      email: 'demo.studio@example.com',
      name: 'Demo Studio',
      channel: makeChannel(
        'sandboxstudio',
        'Sandbox Studio',
        'sandboxstudio',
        Date.UTC(2022, 0, 5, 15, 0),
        studioVideos(now),
        160,
      ),
    },
  ]
}

/** `m:ss` or `h:mm:ss`, as YouTube's duration badge shows it. */
function badge(seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = String(seconds % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}

/**
 * A video's poster: a frame (16:9, or 9:16 for a Short) with a gradient, the title, a play mark,
 * the duration badge (or LIVE), like a YouTube thumbnail.
 */
export function renderVideoSvg(video: EmulatorVideo, channelTitle: string): string {
  const [w, h] = video.short ? [720, 1280] : [1280, 720]
  const h2 = (video.hue + 40) % 360
  const label = video.live === 'live' ? 'LIVE' : badge(video.durationSeconds)
  const cx = w / 2
  const cy = h / 2
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${video.hue},65%,55%)"/><stop offset="1" stop-color="hsl(${h2},65%,30%)"/></linearGradient></defs>
<rect width="${w}" height="${h}" fill="url(#g)"/>
<rect x="${cx - 70}" y="${cy - 48}" width="140" height="96" rx="24" fill="rgba(255,0,0,.9)"/><path d="M${cx - 22} ${cy - 28} L${cx + 32} ${cy} L${cx - 22} ${cy + 28} Z" fill="#fff"/>
<text x="40" y="${h - 110}" font-family="sans-serif" font-size="44" fill="#fff">${escapeHtml(video.title.slice(0, video.short ? 24 : 48))}</text>
<text x="40" y="80" font-family="sans-serif" font-size="32" fill="rgba(255,255,255,.85)">${escapeHtml(channelTitle.slice(0, 40))} · sandbox</text>
<rect x="${w - 190}" y="${h - 80}" width="160" height="52" rx="8" fill="rgba(0,0,0,.8)"/><text x="${w - 110}" y="${h - 42}" text-anchor="middle" font-family="sans-serif" font-size="30" fill="#fff">${label}</text>
</svg>`
}

/** A channel avatar: a coloured disc with the channel's initial. */
export function renderAvatarSvg(channel: EmulatorChannel, size: number): string {
  const initial = escapeHtml((channel.title.trim()[0] ?? '?').toUpperCase())
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 100 100">
<circle cx="50" cy="50" r="50" fill="hsl(${channel.hue},60%,45%)"/>
<text x="50" y="66" text-anchor="middle" font-family="sans-serif" font-size="46" fill="#fff">${initial}</text>
</svg>`
}
