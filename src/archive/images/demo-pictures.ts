/**
 * @module archive/images/demo-pictures — the sandbox's media as real files: deterministic abstract
 * "photos" (JPEG) and short H.264 clips, made without any network.
 *
 * `demoPicture` paints in plain arithmetic (no `Math.sin`/`Math.exp`, whose last bits may differ
 * between V8 versions), so a seed gives the same pixels everywhere and, with this sharp/mozjpeg,
 * the same bytes: a diagonal two-colour gradient, a hilly horizon with a crisp edge, soft and sharp
 * overlapping discs, a vignette, two octaves
 * of value noise and a fine grain — enough texture that AVIF/WebP sizes are those of a photo, not
 * of a flat colour. It is encoded as a platform would serve it: baseline libjpeg at quality 85.
 *
 * `demoVideo` pans slowly across a `demoPicture` of the same seed, with ffmpeg's temporal noise
 * for grain, using the ffmpeg binary of `@ffmpeg-installer/ffmpeg` (shipped inside the npm
 * package; no shell). The clip is H.264 High, yuv420p, 30 fps, `+faststart`, no audio, bit-exact
 * (no encoder string or creation time), cached in `dir` by seed, length and size; its poster is
 * the first frame as a JPEG.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import sharp from 'sharp'

/** sfc32 over the seed's SHA-256: a deterministic stream of numbers in [0, 1). */
function rng(seed: string): () => number {
  const h = createHash('sha256').update(seed).digest()
  let a = h.readUInt32LE(0)
  let b = h.readUInt32LE(4)
  let c = h.readUInt32LE(8)
  let d = h.readUInt32LE(12)
  return () => {
    a >>>= 0
    b >>>= 0
    c >>>= 0
    d >>>= 0
    const t = (a + b + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) >>> 0
    return t / 4294967296
  }
}

type Rgb = [number, number, number]

/** HSL (all in [0, 1]) to RGB in [0, 255], piecewise linear (no trigonometry). */
function hsl(h: number, s: number, l: number): Rgb {
  const hue = (((h % 1) + 1) % 1) * 6
  const c = (1 - Math.abs(2 * l - 1)) * s
  const x = c * (1 - Math.abs((hue % 2) - 1))
  const m = l - c / 2
  const [r, g, b] =
    hue < 1
      ? [c, x, 0]
      : hue < 2
        ? [x, c, 0]
        : hue < 3
          ? [0, c, x]
          : hue < 4
            ? [0, x, c]
            : hue < 5
              ? [x, 0, c]
              : [c, 0, x]
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255]
}

/** Integer hash of a lattice point, in [0, 1). */
function lattice(ix: number, iy: number, salt: number): number {
  let h = Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ salt
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296
}

/** Smooth value noise in [0, 1) with a lattice every `cell` pixels. */
function valueNoise(x: number, y: number, cell: number, salt: number): number {
  const fx = x / cell
  const fy = y / cell
  const ix = Math.floor(fx)
  const iy = Math.floor(fy)
  let tx = fx - ix
  let ty = fy - iy
  tx = tx * tx * (3 - 2 * tx)
  ty = ty * ty * (3 - 2 * ty)
  const a = lattice(ix, iy, salt)
  const b = lattice(ix + 1, iy, salt)
  const c = lattice(ix, iy + 1, salt)
  const d = lattice(ix + 1, iy + 1, salt)
  return a + (b - a) * tx + (c - a) * ty + (a - b - c + d) * tx * ty
}

/** The pixels of a demo picture: 8-bit RGB, row by row. */
export function demoPixels(seed: string, width: number, height: number): Buffer {
  const random = rng(seed)
  const hue = random()
  const from = hsl(hue, 0.45 + random() * 0.35, 0.3 + random() * 0.25)
  const to = hsl(hue + 0.1 + random() * 0.3, 0.4 + random() * 0.4, 0.55 + random() * 0.25)
  let gx = random() - 0.5
  let gy = random() - 0.5
  const norm = Math.sqrt(gx * gx + gy * gy) || 1
  gx /= norm
  gy /= norm
  const span = Math.abs(gx) * width + Math.abs(gy) * height || 1
  const originX = gx < 0 ? width : 0
  const originY = gy < 0 ? height : 0
  const side = Math.min(width, height)
  const discs = Array.from({ length: 5 + Math.floor(random() * 5) }, () => ({
    x: random() * width,
    y: random() * height,
    r: side * (0.08 + random() * 0.3),
    soft: random() < 0.3 ? 0.02 + random() * 0.05 : 0.15 + random() * 0.6,
    alpha: 0.35 + random() * 0.5,
    color: hsl(hue + (random() - 0.5) * 0.6, 0.35 + random() * 0.5, 0.35 + random() * 0.5),
  }))
  const ground = hsl(hue + 0.5 + (random() - 0.5) * 0.2, 0.3 + random() * 0.3, 0.2 + random() * 0.2)
  const horizon = height * (0.55 + random() * 0.3)
  const salt = Math.floor(random() * 2 ** 31)
  let grain = (Math.floor(random() * 2 ** 31) | 1) >>> 0
  const out = Buffer.allocUnsafe(width * height * 3)
  const cx = width / 2
  const cy = height / 2
  const maxR2 = cx * cx + cy * cy
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = Math.min(1, Math.max(0, ((x - originX) * gx + (y - originY) * gy) / span))
      let r = from[0] + (to[0] - from[0]) * t
      let g = from[1] + (to[1] - from[1]) * t
      let b = from[2] + (to[2] - from[2]) * t
      // A hilly horizon with a crisp (2 px) edge, so the picture has edges as well as blur.
      const ridge = horizon + (valueNoise(x, 0, side / 3, salt + 2) - 0.5) * side * 0.25
      const below = Math.min(1, Math.max(0, (y - ridge) / 2))
      if (below > 0) {
        const depth = Math.min(1, (y - ridge) / (height - ridge + 1))
        const w = below * (0.85 - 0.3 * depth)
        r += (ground[0] - r) * w
        g += (ground[1] - g) * w
        b += (ground[2] - b) * w
      }
      for (const disc of discs) {
        const dx = x - disc.x
        const dy = y - disc.y
        const d2 = dx * dx + dy * dy
        if (d2 >= disc.r * disc.r) continue
        const edge = 1 - Math.sqrt(d2) / disc.r
        const k = Math.min(1, edge / disc.soft)
        const w = disc.alpha * k * k * (3 - 2 * k)
        r += (disc.color[0] - r) * w
        g += (disc.color[1] - g) * w
        b += (disc.color[2] - b) * w
      }
      const vx = x - cx
      const vy = y - cy
      const vignette = 1 - 0.35 * ((vx * vx + vy * vy) / maxR2)
      const texture =
        0.88 + 0.16 * valueNoise(x, y, side / 6, salt) + 0.08 * valueNoise(x, y, 9, salt + 1)
      grain ^= grain << 13
      grain ^= grain >>> 17
      grain ^= grain << 5
      const noise = ((grain >>> 0) / 4294967296 - 0.5) * 10
      const f = vignette * texture
      const o = (y * width + x) * 3
      out[o] = Math.max(0, Math.min(255, Math.round(r * f + noise)))
      out[o + 1] = Math.max(0, Math.min(255, Math.round(g * f + noise)))
      out[o + 2] = Math.max(0, Math.min(255, Math.round(b * f + noise)))
    }
  }
  return out
}

/** A deterministic abstract photo as a JPEG (same seed and size → the same bytes). */
export async function demoPicture(seed: string, width: number, height: number): Promise<Buffer> {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0))
    throw new RangeError('width and height must be positive integers')
  return sharp(demoPixels(seed, width, height), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85, chromaSubsampling: '4:2:0', mozjpeg: false })
    .toBuffer()
}

export interface DemoVideo {
  /** The MP4 file. */
  readonly path: string
  /** Its first frame, JPEG. */
  readonly poster: string
  readonly seconds: number
  readonly width: number
  readonly height: number
}

export const DEMO_VIDEO_FPS = 30

/** Path of the ffmpeg binary inside `@ffmpeg-installer/ffmpeg`. */
export function ffmpegPath(): string {
  const installer = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }
  return installer.path
}

/** Runs ffmpeg with `args` (no shell); rejects with its stderr's tail on a non-zero exit. */
export function runFfmpeg(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000)
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve(stderr)
      else
        reject(
          new Error(
            `ffmpeg exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        )
    })
  })
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  )

/**
 * A deterministic short clip (H.264 MP4, `width` × `height`, both even) and its poster, made
 * once per seed, length and size and kept in `dir`. Written under temporary names and renamed,
 * so a half-written clip is never returned.
 */
export async function demoVideo(
  seed: string,
  seconds: number,
  width: number,
  height: number,
  dir: string,
): Promise<DemoVideo> {
  if (!(width > 0 && height > 0 && width % 2 === 0 && height % 2 === 0))
    throw new RangeError('width and height must be positive even integers (yuv420p)')
  if (!(seconds > 0 && seconds <= 60)) throw new RangeError('seconds must be in (0, 60]')
  const key = createHash('sha256')
    .update(`v1|${seed}|${seconds}|${width}x${height}`)
    .digest('hex')
    .slice(0, 20)
  const path = join(dir, `demo-${key}.mp4`)
  const poster = join(dir, `demo-${key}.jpg`)
  const result = { path, poster, seconds, width, height }
  if ((await exists(path)) && (await exists(poster))) return result

  await mkdir(dir, { recursive: true })
  const frames = Math.ceil(seconds * DEMO_VIDEO_FPS)
  const pan = frames + (frames % 2)
  const tmp = `${join(dir, `demo-${key}`)}.${process.pid}.${Date.now()}`
  const source = `${tmp}.src.jpg`
  try {
    const still = await demoPicture(seed, width + pan, height + pan / 2)
    await writeFile(source, still)
    await writeFile(
      `${tmp}.jpg`,
      await sharp(still)
        .extract({ left: 0, top: 0, width, height })
        .jpeg({ quality: 85 })
        .toBuffer(),
    )
    await runFfmpeg([
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      '-loop',
      '1',
      '-framerate',
      String(DEMO_VIDEO_FPS),
      '-i',
      source,
      '-vf',
      `crop=${width}:${height}:n:n/2,noise=alls=5:allf=t,format=yuv420p`,
      '-frames:v',
      String(frames),
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '26',
      '-profile:v',
      'high',
      '-pix_fmt',
      'yuv420p',
      '-an',
      '-map_metadata',
      '-1',
      '-fflags',
      '+bitexact',
      '-flags:v',
      '+bitexact',
      '-movflags',
      '+faststart',
      '-f',
      'mp4',
      `${tmp}.mp4`,
    ])
    await rename(`${tmp}.jpg`, poster)
    await rename(`${tmp}.mp4`, path)
    return result
  } finally {
    await Promise.all([source, `${tmp}.jpg`, `${tmp}.mp4`].map((p) => rm(p, { force: true })))
  }
}
