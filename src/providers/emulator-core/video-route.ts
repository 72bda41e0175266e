/**
 * @module providers/emulator-core/video-route — the demo clips the emulators' CDNs play, and the
 * answer that serves one.
 *
 * `demoClips(seed)` hands out one real H.264 MP4 per size (`demoVideo` of
 * `archive/images/demo-pictures.ts`, made by the ffmpeg of `@ffmpeg-installer/ffmpeg`): made
 * lazily at the first request of that size, kept on disk in the temp directory (so later runs
 * reuse it) and in memory (a few hundred kB), so listing many videos never spawns ffmpeg more
 * than once per size. A failed run is forgotten, so the next request tries again.
 *
 * `sendDemoClip` answers with the clip as `video/mp4`, optionally honouring a single
 * `Range: bytes=…` (206 with `content-range`, 416 when unsatisfiable, the whole clip for forms it
 * does not take, as RFC 9110 allows), and 503 with a plain explanation when ffmpeg is missing
 * (it is a development dependency).
 */
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { demoVideo } from '../../archive/images/demo-pictures.ts'

const TEXT = 'text/plain; charset=utf-8'
const DIR = join(tmpdir(), 'psg-demo-video')

export interface DemoClip {
  /** The MP4 file's bytes. */
  readonly bytes: Buffer
  /** Its first frame, JPEG. */
  readonly poster: Buffer
}

/** Clip sizes a CDN may ask for: a handful, so memory stays small. */
const MAX_SIZES = 8

/** One clip per size, `seconds` long, of `seed` (each size its own picture); made on first use. */
export function demoClips(
  seed: string,
  seconds = 3,
): (width: number, height: number) => Promise<DemoClip> {
  const clips = new Map<string, Promise<DemoClip>>()
  return (width, height) => {
    const key = `${width}x${height}`
    let clip = clips.get(key)
    if (clip === undefined) {
      if (clips.size >= MAX_SIZES) throw new RangeError('too many demo clip sizes')
      clip = demoVideo(seed, seconds, width, height, DIR).then(async (video) => ({
        bytes: await readFile(video.path),
        poster: await readFile(video.poster),
      }))
      clips.set(key, clip)
      clip.catch(() => {
        if (clips.get(key) === clip) clips.delete(key)
      })
    }
    return clip
  }
}

/** `[start, end]` (inclusive) of a single `bytes=` range, `null` when unsatisfiable. */
function byteRange(header: string, size: number): [number, number] | null | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match === null) return undefined // another unit or several ranges: the whole file
  const [, from = '', to = ''] = match
  if (from === '' && to === '') return undefined
  if (from === '') {
    const suffix = Number(to)
    if (suffix === 0) return null
    return [Math.max(0, size - suffix), size - 1]
  }
  const start = Number(from)
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1)
  if (start >= size || end < start) return null
  return [start, end]
}

export interface SendClipOptions {
  readonly cacheControl: string
  /** Honour `Range` requests (CDNs do); off, every request gets the whole clip. */
  readonly ranges: boolean
}

/** Answers `request` with `clip()`'s MP4 (or 503 when ffmpeg cannot make it). */
export async function sendDemoClip(
  request: FastifyRequest,
  reply: FastifyReply,
  clip: () => Promise<DemoClip>,
  options: SendClipOptions,
): Promise<FastifyReply> {
  let bytes: Buffer
  try {
    bytes = (await clip()).bytes
  } catch {
    // ffmpeg is a development dependency: an install without it has no demo clip
    return reply.code(503).type(TEXT).send('The demo video needs ffmpeg (npm install)')
  }
  reply.type('video/mp4').header('cache-control', options.cacheControl)
  if (!options.ranges) return reply.send(bytes)
  reply.header('accept-ranges', 'bytes')
  const header = request.headers.range
  const range = header === undefined ? undefined : byteRange(header, bytes.length)
  if (range === undefined) return reply.send(bytes)
  if (range === null)
    return reply
      .code(416)
      .header('content-range', `bytes */${bytes.length}`)
      .type(TEXT)
      .send('Range Not Satisfiable')
  const [start, end] = range
  return reply
    .code(206)
    .header('content-range', `bytes ${start}-${end}/${bytes.length}`)
    .send(bytes.subarray(start, end + 1))
}
