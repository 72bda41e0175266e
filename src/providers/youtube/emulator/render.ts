/**
 * @module providers/youtube/emulator/render — YouTube Data API v3 resources as Google renders
 * them: `youtube#channel`, `youtube#playlistItem`, `youtube#video`, each with only the parts
 * asked for, counts as decimal strings, RFC 3339 dates without milliseconds, ISO 8601 durations,
 * thumbnails only in the sizes a video has (`standard` and `maxres` for HD videos only; `_live`
 * pictures for a broadcast that is live or upcoming), and etags that change with the content.
 */
import { createHash } from 'node:crypto'
import { uploadsPlaylistId } from './demo-data.ts'
import type { EmulatorChannel, EmulatorVideo } from './state.ts'

/** `2026-11-28T18:00:05Z`: Google's dates carry no milliseconds. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** `PT1M3S`, `PT2H`, `PT12M31S`; `P0D` for zero (and for live or upcoming broadcasts). */
export function isoDuration(seconds: number): string {
  if (seconds <= 0) return 'P0D'
  const d = Math.floor(seconds / 86_400)
  const h = Math.floor((seconds % 86_400) / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  const time = `${h > 0 ? `${h}H` : ''}${m > 0 ? `${m}M` : ''}${s > 0 ? `${s}S` : ''}`
  return `P${d > 0 ? `${d}D` : ''}${time === '' ? '' : `T${time}`}`
}

/** An etag for a rendered resource: a digest of its content, so it changes when it does. */
export function etag(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 27)
}

const SIZES = [
  ['default', 'default', 120, 90],
  ['medium', 'mqdefault', 320, 180],
  ['high', 'hqdefault', 480, 360],
  ['standard', 'sddefault', 640, 480],
  ['maxres', 'maxresdefault', 1280, 720],
] as const

/** The picture files a video has at the CDN (`hqdefault.jpg`…). */
export function thumbnailFiles(video: EmulatorVideo): string[] {
  const onAir = video.live === 'live' || video.live === 'upcoming'
  return SIZES.filter(([size]) => video.hd || (size !== 'standard' && size !== 'maxres'))
    .filter(([size]) => !onAir || size === 'default' || size === 'medium' || size === 'high')
    .map(([, file]) => `${file}${onAir ? '_live' : ''}.jpg`)
}

export function videoThumbnails(base: string, video: EmulatorVideo): Record<string, unknown> {
  const files = new Set(thumbnailFiles(video))
  const out: Record<string, unknown> = {}
  const onAir = video.live === 'live' || video.live === 'upcoming'
  for (const [size, file, width, height] of SIZES) {
    const name = `${file}${onAir ? '_live' : ''}.jpg`
    if (files.has(name)) out[size] = { url: `${base}/vi/${video.id}/${name}`, width, height }
  }
  return out
}

export const AVATAR_SIZES = { 's88-c-k': 88, 's240-c-k': 240, 's800-c-k': 800 } as const

function channelThumbnails(base: string, channel: EmulatorChannel): Record<string, unknown> {
  const [d, m, h] = Object.entries(AVATAR_SIZES).map(([file, px]) => ({
    url: `${base}/avatars/${channel.id}/${file}`,
    width: px,
    height: px,
  }))
  return { default: d, medium: m, high: h }
}

/** A `youtube#channel` with the parts in `parts`; counts over what the public sees. */
export function renderChannel(
  base: string,
  channel: EmulatorChannel,
  parts: ReadonlySet<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: 'youtube#channel', etag: '', id: channel.id }
  const publicVideos = channel.videos.filter((v) => v.privacy === 'public')
  if (parts.has('snippet'))
    out.snippet = {
      title: channel.title,
      description: channel.description,
      customUrl: channel.customUrl,
      publishedAt: rfc3339(channel.publishedAt),
      thumbnails: channelThumbnails(base, channel),
      localized: { title: channel.title, description: channel.description },
      country: 'US',
    }
  if (parts.has('contentDetails'))
    out.contentDetails = {
      relatedPlaylists: { likes: '', uploads: uploadsPlaylistId(channel.id) },
    }
  if (parts.has('statistics'))
    out.statistics = {
      viewCount: String(publicVideos.reduce((n, v) => n + v.viewCount, 0)),
      subscriberCount: String(channel.subscriberCount),
      hiddenSubscriberCount: channel.hiddenSubscriberCount,
      videoCount: String(publicVideos.length),
    }
  if (parts.has('status'))
    out.status = {
      privacyStatus: 'public',
      isLinked: true,
      longUploadsStatus: 'allowed',
      madeForKids: false,
    }
  out.etag = etag(out)
  return out
}

/**
 * A `youtube#playlistItem` of an uploads playlist. `contentDetails.videoPublishedAt` is absent for
 * a private video (as for Google's private and deleted entries).
 */
export function renderPlaylistItem(
  base: string,
  channel: EmulatorChannel,
  video: EmulatorVideo,
  position: number,
  parts: ReadonlySet<string>,
): Record<string, unknown> {
  const playlistId = uploadsPlaylistId(channel.id)
  const out: Record<string, unknown> = {
    kind: 'youtube#playlistItem',
    etag: '',
    id: Buffer.from(`${playlistId}.${video.id}`).toString('base64url'),
  }
  if (parts.has('snippet'))
    out.snippet = {
      publishedAt: rfc3339(video.publishedAt),
      channelId: channel.id,
      title: video.title,
      description: video.description,
      thumbnails: videoThumbnails(base, video),
      channelTitle: channel.title,
      playlistId,
      position,
      resourceId: { kind: 'youtube#video', videoId: video.id },
      videoOwnerChannelTitle: channel.title,
      videoOwnerChannelId: channel.id,
    }
  if (parts.has('contentDetails'))
    out.contentDetails =
      video.privacy === 'private'
        ? { videoId: video.id }
        : { videoId: video.id, videoPublishedAt: rfc3339(video.publishedAt) }
  if (parts.has('status')) out.status = { privacyStatus: video.privacy }
  out.etag = etag(out)
  return out
}

export function liveBroadcastContent(video: EmulatorVideo): 'none' | 'live' | 'upcoming' {
  return video.live === 'live' || video.live === 'upcoming' ? video.live : 'none'
}

function liveStreamingDetails(video: EmulatorVideo): Record<string, unknown> | null {
  const at = (ms: number | null): string | undefined => (ms === null ? undefined : rfc3339(ms))
  const entries: [string, string | undefined][] = []
  switch (video.live) {
    case 'none':
      return null
    case 'upcoming':
      entries.push(['scheduledStartTime', at(video.scheduledStart ?? video.publishedAt)])
      break
    case 'live':
      entries.push(
        ['actualStartTime', at(video.actualStart ?? video.publishedAt)],
        ['scheduledStartTime', at(video.scheduledStart ?? video.publishedAt)],
        ['concurrentViewers', String(3 + (video.viewCount % 40))],
      )
      break
    case 'replay':
      entries.push(
        ['actualStartTime', at(video.actualStart ?? video.publishedAt)],
        ['actualEndTime', at(video.actualEnd ?? video.publishedAt + video.durationSeconds * 1000)],
        ['scheduledStartTime', at(video.scheduledStart ?? video.publishedAt)],
      )
      break
  }
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined))
}

/** A `youtube#video` with the parts in `parts`. */
export function renderVideo(
  base: string,
  channel: EmulatorChannel,
  video: EmulatorVideo,
  parts: ReadonlySet<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: 'youtube#video', etag: '', id: video.id }
  const onAir = video.live === 'live' || video.live === 'upcoming'
  if (parts.has('snippet'))
    out.snippet = {
      publishedAt: rfc3339(video.publishedAt),
      channelId: channel.id,
      title: video.title,
      description: video.description,
      thumbnails: videoThumbnails(base, video),
      channelTitle: channel.title,
      categoryId: '22',
      liveBroadcastContent: liveBroadcastContent(video),
      localized: { title: video.title, description: video.description },
    }
  if (parts.has('contentDetails'))
    out.contentDetails = {
      duration: onAir ? 'P0D' : isoDuration(video.durationSeconds),
      dimension: '2d',
      definition: video.hd ? 'hd' : 'sd',
      caption: 'false',
      licensedContent: false,
      contentRating: {},
      projection: 'rectangular',
    }
  if (parts.has('status'))
    out.status = {
      uploadStatus: video.live === 'upcoming' ? 'uploaded' : 'processed',
      privacyStatus: video.privacy,
      license: 'youtube',
      embeddable: true,
      publicStatsViewable: true,
      madeForKids: false,
    }
  if (parts.has('statistics'))
    out.statistics = {
      viewCount: String(video.viewCount),
      likeCount: String(Math.floor(video.viewCount / 25)),
      favoriteCount: '0',
      commentCount: String(Math.floor(video.viewCount / 300)),
    }
  if (parts.has('liveStreamingDetails')) {
    const details = liveStreamingDetails(video)
    if (details !== null) out.liveStreamingDetails = details
  }
  out.etag = etag(out)
  return out
}
