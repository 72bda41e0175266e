import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import sharp, { type Sharp } from 'sharp'
import { thumbHashToApproximateAspectRatio, thumbHashToAverageRGBA } from 'thumbhash'
import { derivePicture, widthsFor, type DerivedPicture } from '../../src/archive/images/derive.ts'
import { PictureError, type PictureErrorReason } from '../../src/archive/images/errors.ts'
import {
  PICTURE_WIDTHS,
  VARIANT_FORMATS,
  contentTypeOf,
  looksLikeHeic,
} from '../../src/archive/images/formats.ts'
import { demoPicture, demoVideo, runFfmpeg } from '../../src/archive/images/demo-pictures.ts'
import { tempDir } from '../helpers/temp.ts'

/** A two-colour picture: left half `left`, right half `right`. */
async function halves(width: number, height: number, left: string, right: string): Promise<Sharp> {
  const half = await sharp({ create: { width: width / 2, height, channels: 3, background: right } })
    .png()
    .toBuffer()
  return sharp({ create: { width, height, channels: 3, background: left } }).composite([
    { input: half, left: width / 2, top: 0 },
  ])
}

async function pixelAt(bytes: Uint8Array, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true })
  const at = (y * info.width + x) * info.channels
  return [...data.subarray(at, at + info.channels)]
}

const near = (actual: readonly number[], expected: readonly number[], tolerance = 30): boolean =>
  expected.every((value, i) => Math.abs((actual[i] ?? -999) - value) <= tolerance)

/** Every variant decodes to its stated size and format and carries no metadata at all. */
async function assertClean(picture: DerivedPicture): Promise<void> {
  for (const variant of picture.variants) {
    const meta = await sharp(variant.bytes).metadata()
    assert.equal(meta.width, variant.width)
    assert.equal(meta.height, variant.height)
    assert.equal(meta.format === 'heif' ? 'avif' : meta.format, variant.format)
    assert.equal(meta.exif, undefined, `${variant.format} ${variant.width}: EXIF left`)
    assert.equal(meta.xmp, undefined, `${variant.format} ${variant.width}: XMP left`)
    assert.equal(meta.iptc, undefined, `${variant.format} ${variant.width}: IPTC left`)
    assert.equal(meta.icc, undefined, `${variant.format} ${variant.width}: ICC left`)
    assert.equal(meta.orientation, undefined)
    assert.equal(meta.depth, 'uchar')
  }
}

async function refusal(input: Buffer | string, options = {}): Promise<PictureErrorReason> {
  try {
    await derivePicture(input, options)
  } catch (error) {
    assert.ok(error instanceof PictureError, `not a PictureError: ${String(error)}`)
    assert.ok(error.message.length > 0 && !/vips|libpng|\//i.test(error.message), error.message)
    return error.reason
  }
  assert.fail('the picture was converted')
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

/** A 30,000 × 30,000 RGB PNG of 80-odd bytes: a valid IHDR (with its CRC) and a tiny IDAT. */
function pixelBomb(): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(30_000, 0)
  ihdr.writeUInt32BE(30_000, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(30_001 * 4))),
    pngChunk('IEND', Buffer.alloc(0)),
  ])
}

test('constants, content types and the widths of an original', () => {
  assert.deepEqual(PICTURE_WIDTHS, [320, 640, 1080])
  assert.deepEqual(VARIANT_FORMATS, ['avif', 'webp', 'jpeg'])
  assert.equal(contentTypeOf('avif'), 'image/avif')
  assert.equal(contentTypeOf('webp'), 'image/webp')
  assert.equal(contentTypeOf('jpeg'), 'image/jpeg')
  assert.equal(contentTypeOf('png'), 'image/png')
  assert.deepEqual(widthsFor(4000), [320, 640, 1080])
  assert.deepEqual(widthsFor(1080), [320, 640, 1080])
  assert.deepEqual(widthsFor(640), [320, 640])
  assert.deepEqual(widthsFor(500), [320, 500])
  assert.deepEqual(widthsFor(320), [320])
  assert.deepEqual(widthsFor(200), [200])
})

test('a large JPEG: three widths × three formats, aspect kept, placeholder and colour', async () => {
  const input = await sharp({
    create: { width: 1200, height: 900, channels: 3, background: '#c02020' },
  })
    .jpeg()
    .toBuffer()
  const picture = await derivePicture(input)
  assert.equal(picture.format, 'jpeg')
  assert.deepEqual([picture.width, picture.height], [1200, 900])
  assert.deepEqual(
    picture.variants.map((v) => `${v.width}x${v.height}.${v.format}`),
    ['320x240', '640x480', '1080x810'].flatMap((s) => VARIANT_FORMATS.map((f) => `${s}.${f}`)),
  )
  await assertClean(picture)
  assert.match(picture.color, /^#[0-9a-f]{6}$/)
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(picture.color.slice(i, i + 2), 16))
  assert.ok(near([r ?? 0, g ?? 0, b ?? 0], [0xc0, 0x20, 0x20], 24), picture.color)
  const hash = Buffer.from(picture.thumbhash, 'base64')
  assert.ok(hash.length > 5 && hash.length < 40)
  assert.ok(Math.abs(thumbHashToApproximateAspectRatio(hash) - 4 / 3) < 0.15)
  const average = thumbHashToAverageRGBA(hash)
  assert.ok(average.r > 0.6 && average.g < 0.25, JSON.stringify(average))
})

test('EXIF orientation 6 is applied and every piece of metadata (GPS!) is stripped', async () => {
  const input = await (
    await halves(400, 300, '#ff0000', '#0000ff')
  )
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Make: 'PhoneCo', Model: 'Leaky 1' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 2400/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 21/1 0/1',
      },
    })
    .withXmp(
      '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>',
    )
    .jpeg()
    .toBuffer()
  const before = await sharp(input).metadata()
  assert.equal(before.orientation, 6)
  const exif = before.exif ?? Buffer.alloc(0)
  assert.ok(exif.includes(Buffer.from('Leaky 1')))
  // The GPS IFD pointer (tag 0x8825), little- or big-endian: the fixture does carry a location.
  assert.ok(exif.includes(Buffer.from([0x25, 0x88])) || exif.includes(Buffer.from([0x88, 0x25])))
  assert.notEqual(before.xmp, undefined)

  const picture = await derivePicture(input)
  assert.deepEqual([picture.width, picture.height], [300, 400])
  assert.deepEqual(
    picture.variants.map((v) => [v.width, v.height]),
    [
      [300, 400],
      [300, 400],
      [300, 400],
    ],
  )
  await assertClean(picture)
  for (const variant of picture.variants) {
    // Rotated 90° clockwise: the red left half is now on top, the blue right half below.
    assert.ok(near(await pixelAt(variant.bytes, 150, 20), [255, 0, 0], 60), variant.format)
    assert.ok(near(await pixelAt(variant.bytes, 150, 380), [0, 0, 255], 60), variant.format)
    assert.ok(!Buffer.from(variant.bytes).includes(Buffer.from('Leaky 1')))
  }
})

test('PNG with alpha: AVIF and WebP keep it, JPEG is flattened on white', async () => {
  const input = await sharp({
    create: { width: 400, height: 400, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .composite([
      {
        input: await sharp({
          create: { width: 200, height: 400, channels: 4, background: '#00a000' },
        })
          .png()
          .toBuffer(),
        left: 0,
        top: 0,
      },
    ])
    .png()
    .toBuffer()
  const picture = await derivePicture(input)
  assert.equal(picture.format, 'png')
  assert.deepEqual(
    picture.variants.map((v) => v.width),
    [320, 320, 320, 400, 400, 400],
  )
  await assertClean(picture)
  for (const variant of picture.variants) {
    const meta = await sharp(variant.bytes).metadata()
    const transparent = await pixelAt(variant.bytes, variant.width - 10, 10)
    if (variant.format === 'jpeg') {
      assert.equal(meta.hasAlpha, false)
      assert.ok(near(transparent, [255, 255, 255], 8), `jpeg ${transparent.join()}`)
    } else {
      assert.equal(meta.hasAlpha, true, variant.format)
      assert.ok((transparent[3] ?? 255) < 10, `${variant.format} alpha ${transparent[3]}`)
      assert.ok(near(await pixelAt(variant.bytes, 10, 10), [0, 160, 0, 255], 20))
    }
  }
})

test('an opaque alpha channel is dropped', async () => {
  const input = await sharp({
    create: { width: 300, height: 200, channels: 4, background: '#123456ff' },
  })
    .png()
    .toBuffer()
  assert.equal((await sharp(input).metadata()).hasAlpha, true)
  const picture = await derivePicture(input)
  for (const variant of picture.variants)
    assert.equal((await sharp(variant.bytes).metadata()).hasAlpha, false, variant.format)
})

test('animated GIF: the stills are the first frame, at one frame’s height', async () => {
  const frames = await Promise.all(
    ['#ff0000', '#00ff00', '#0000ff'].map((background) =>
      sharp({ create: { width: 240, height: 160, channels: 3, background } })
        .png()
        .toBuffer(),
    ),
  )
  const input = await sharp(frames, { join: { animated: true } })
    .gif({ delay: [100, 100, 100] })
    .toBuffer()
  const meta = await sharp(input).metadata()
  assert.equal(meta.pages, 3)
  const picture = await derivePicture(input)
  assert.equal(picture.format, 'gif')
  assert.deepEqual([picture.width, picture.height], [240, 160])
  assert.deepEqual([...new Set(picture.variants.map((v) => `${v.width}x${v.height}`))], ['240x160'])
  await assertClean(picture)
  for (const variant of picture.variants) {
    assert.equal((await sharp(variant.bytes).metadata()).pages ?? 1, 1)
    assert.ok(near(await pixelAt(variant.bytes, 120, 80), [255, 0, 0], 40), variant.format)
  }
})

test('CMYK JPEG and 16-bit PNG become 8-bit sRGB', async () => {
  const cmyk = await sharp({
    create: { width: 300, height: 200, channels: 3, background: '#e03020' },
  })
    .toColourspace('cmyk')
    .jpeg()
    .toBuffer()
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk')
  const fromCmyk = await derivePicture(cmyk)
  await assertClean(fromCmyk)
  for (const variant of fromCmyk.variants) {
    const meta = await sharp(variant.bytes).metadata()
    assert.equal(meta.space, 'srgb')
    assert.equal(meta.channels, 3)
    assert.ok(near(await pixelAt(variant.bytes, 150, 100), [0xe0, 0x30, 0x20], 45), variant.format)
  }

  const deep = await sharp({
    create: { width: 300, height: 200, channels: 3, background: '#2080c0' },
  })
    .toColourspace('rgb16')
    .png()
    .toBuffer()
  assert.equal((await sharp(deep).metadata()).depth, 'ushort')
  const fromDeep = await derivePicture(deep)
  await assertClean(fromDeep)
  for (const variant of fromDeep.variants)
    assert.ok(near(await pixelAt(variant.bytes, 150, 100), [0x20, 0x80, 0xc0], 20), variant.format)
})

test('an embedded ICC profile (Display P3) is converted to sRGB, then removed', async () => {
  const input = await sharp({
    create: { width: 300, height: 200, channels: 3, background: '#20c040' },
  })
    .withIccProfile('p3')
    .jpeg({ quality: 95 })
    .toBuffer()
  assert.equal((await sharp(input).metadata()).hasProfile, true)
  const picture = await derivePicture(input)
  await assertClean(picture)
  // The file holds P3 values (not the sRGB ones): read naively they are visibly different…
  const stored = await sharp(input, { ignoreIcc: true }).raw().toBuffer()
  assert.ok(
    !near([...stored.subarray(0, 3)], [0x20, 0xc0, 0x40], 12),
    [...stored.subarray(0, 3)].join(),
  )
  // …and the derived sizes hold sRGB values again, with no profile (checked above).
  for (const variant of picture.variants)
    assert.ok(near(await pixelAt(variant.bytes, 150, 100), [0x20, 0xc0, 0x40], 12), variant.format)
})

test('never upscaled: 500 px gives 320 and 500, 200 px gives 200 only', async () => {
  const make = (width: number, height: number): Promise<Buffer> =>
    sharp({ create: { width, height, channels: 3, background: '#808080' } })
      .webp()
      .toBuffer()
  const five = await derivePicture(await make(500, 250))
  assert.equal(five.format, 'webp')
  assert.deepEqual(
    five.variants.map((v) => `${v.width}x${v.height}`),
    ['320x160', '320x160', '320x160', '500x250', '500x250', '500x250'],
  )
  const two = await derivePicture(await make(200, 300))
  assert.deepEqual(
    two.variants.map((v) => `${v.width}x${v.height}.${v.format}`),
    ['200x300.avif', '200x300.webp', '200x300.jpeg'],
  )
  await assertClean(two)
})

test('a file path works like a buffer; a text file named .jpg and an empty file are refused', async () => {
  const dir = tempDir()
  try {
    const photo = join(dir.path, 'photo.jpg')
    await writeFile(
      photo,
      await sharp({ create: { width: 100, height: 80, channels: 3, background: '#336699' } })
        .jpeg()
        .toBuffer(),
    )
    const picture = await derivePicture(photo)
    assert.deepEqual([picture.width, picture.height, picture.variants.length], [100, 80, 3])

    const text = join(dir.path, 'not-really.jpg')
    await writeFile(text, '<!doctype html><title>Sorry, this page is not available</title>\n')
    assert.equal(await refusal(text), 'not_a_picture')
    assert.equal(await refusal(await readFile(text)), 'not_a_picture')
    const empty = join(dir.path, 'empty.jpg')
    await writeFile(empty, '')
    assert.equal(await refusal(empty), 'not_a_picture')
    assert.equal(await refusal(Buffer.alloc(0)), 'not_a_picture')
  } finally {
    dir.cleanup()
  }
})

test('truncated JPEG and PNG are refused as corrupt (not converted half grey)', async () => {
  const jpeg = await sharp({
    create: { width: 600, height: 400, channels: 3, background: '#a05030' },
  })
    .composite([
      { input: await (await halves(200, 200, '#fff', '#000')).png().toBuffer(), left: 50, top: 50 },
    ])
    .jpeg()
    .toBuffer()
  const png = await (await halves(600, 400, '#ff8800', '#0088ff')).png().toBuffer()
  assert.equal((await derivePicture(jpeg)).variants.length, 6) // whole, they convert
  assert.equal(await refusal(jpeg.subarray(0, Math.floor(jpeg.length * 0.6))), 'corrupt')
  assert.equal(await refusal(png.subarray(0, Math.floor(png.length * 0.6))), 'corrupt')
  assert.equal(await refusal(jpeg.subarray(0, 40)), 'corrupt')
})

test('a 30,000 × 30,000 pixel bomb is refused from its header, fast, without the memory', async () => {
  const bomb = pixelBomb()
  assert.ok(bomb.length < 200)
  const meta = await sharp(bomb, { limitInputPixels: false }).metadata()
  assert.deepEqual([meta.width, meta.height], [30_000, 30_000])
  const rssBefore = process.memoryUsage().rss
  const started = performance.now()
  assert.equal(await refusal(bomb), 'too_many_pixels')
  const dir = tempDir()
  try {
    const path = join(dir.path, 'bomb.png')
    await writeFile(path, bomb)
    assert.equal(await refusal(path), 'too_many_pixels')
  } finally {
    dir.cleanup()
  }
  const elapsed = performance.now() - started
  const grew = process.memoryUsage().rss - rssBefore
  assert.ok(elapsed < 1000, `${elapsed} ms`)
  assert.ok(grew < 256 * 2 ** 20, `RSS grew ${grew} bytes`)
  // The limit is an option: a small one refuses ordinary pictures the same way.
  const normal = await sharp({
    create: { width: 400, height: 300, channels: 3, background: '#000' },
  })
    .png()
    .toBuffer()
  assert.equal(await refusal(normal, { limitInputPixels: 100_000 }), 'too_many_pixels')
})

test('HEIC (no HEVC decoder here) and SVG are unsupported formats; the byte cap is too_large', async () => {
  // A minimal HEIC: an ftyp box (brand heic, compatible mif1 heic) and an empty meta box.
  const heic = Buffer.concat([
    Buffer.from([0, 0, 0, 24]),
    Buffer.from('ftypheic', 'latin1'),
    Buffer.from([0, 0, 0, 0]),
    Buffer.from('mif1heic', 'latin1'),
    Buffer.from([0, 0, 0, 12]),
    Buffer.from('meta', 'latin1'),
    Buffer.alloc(4),
  ])
  assert.ok(looksLikeHeic(heic))
  assert.equal(await refusal(heic), 'unsupported_format')
  // AVIF, the other HEIF, converts.
  const avif = await sharp({
    create: { width: 64, height: 48, channels: 3, background: '#445566' },
  })
    .avif()
    .toBuffer()
  assert.ok(!looksLikeHeic(avif))
  assert.equal((await derivePicture(avif)).format, 'avif')

  const svg = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40"/></svg>',
  )
  assert.equal(await refusal(svg), 'unsupported_format')

  const big = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#000' } })
    .png()
    .toBuffer()
  assert.equal(await refusal(big, { maxInputBytes: big.length - 1 }), 'too_large')
  assert.equal((await derivePicture(big, { maxInputBytes: big.length })).variants.length, 3)
})

test('demoPicture: deterministic, a JPEG of the size asked, textured like a photo', async () => {
  const [a, b, c] = await Promise.all([
    demoPicture('seed-1', 540, 675),
    demoPicture('seed-1', 540, 675),
    demoPicture('seed-2', 540, 675),
  ])
  assert.ok(a.equals(b))
  assert.ok(!a.equals(c))
  const meta = await sharp(a).metadata()
  assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 540, 675])
  // A flat colour would compress to a few KB; a photo-like texture to 20–120 KB at this size.
  assert.ok(a.length > 20_000 && a.length < 120_000, `${a.length} bytes`)
  const stats = await sharp(a).stats()
  assert.ok(
    stats.channels.every((ch) => ch.stdev > 8),
    'more than a flat colour',
  )
})

/** Duration in seconds and the first video track's width and height, from the MP4's boxes. */
function mp4Facts(mp4: Buffer): {
  seconds: number
  width: number
  height: number
  moovFirst: boolean
} {
  const find = (type: string, from = 0): number => mp4.indexOf(Buffer.from(type, 'latin1'), from)
  const mvhd = find('mvhd')
  const version = mp4[mvhd + 4]
  const timescale = mp4.readUInt32BE(mvhd + (version === 1 ? 24 : 16))
  const duration =
    version === 1 ? Number(mp4.readBigUInt64BE(mvhd + 28)) : mp4.readUInt32BE(mvhd + 20)
  const tkhd = find('tkhd')
  const tkVersion = mp4[tkhd + 4]
  const size = tkhd + (tkVersion === 1 ? 88 : 76) + 4
  return {
    seconds: duration / timescale,
    width: mp4.readUInt32BE(size) / 65536,
    height: mp4.readUInt32BE(size + 4) / 65536,
    moovFirst: find('moov') < find('mdat'),
  }
}

test('demoVideo: a deterministic H.264 MP4 (+faststart) and its poster, cached by seed', async () => {
  const one = tempDir()
  const two = tempDir()
  try {
    const [a, b] = await Promise.all([
      demoVideo('clip', 1, 270, 480, one.path),
      demoVideo('clip', 1, 270, 480, two.path),
    ])
    const [aBytes, bBytes] = await Promise.all([readFile(a.path), readFile(b.path)])
    assert.ok(aBytes.equals(bBytes), 'same seed, same bytes')
    assert.ok((await readFile(a.poster)).equals(await readFile(b.poster)))
    const facts = mp4Facts(aBytes)
    assert.ok(Math.abs(facts.seconds - 1) < 0.05, `${facts.seconds} s`)
    assert.deepEqual([facts.width, facts.height, facts.moovFirst], [270, 480, true])
    const probe = await runFfmpeg(['-hide_banner', '-i', a.path, '-f', 'null', '-']).catch(
      (error: unknown) => String(error),
    )
    assert.match(probe, /Video: h264 \(High\).*yuv420p.*270x480/)
    assert.doesNotMatch(probe, /Audio:/)
    const poster = await sharp(a.poster).metadata()
    assert.deepEqual([poster.format, poster.width, poster.height], ['jpeg', 270, 480])

    const mtime = (await stat(a.path)).mtimeMs
    const again = await demoVideo('clip', 1, 270, 480, one.path)
    assert.equal(again.path, a.path)
    assert.equal((await stat(a.path)).mtimeMs, mtime, 'served from the cache')
  } finally {
    one.cleanup()
    two.cleanup()
  }
})
