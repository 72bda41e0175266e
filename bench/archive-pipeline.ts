/**
 * Issue 16, the picture pipeline: `node --import tsx bench/archive-pipeline.ts [--quick]`.
 *
 * N demo pictures (deterministic, half 1080 × 1350 and half 1080 × 1080, encoded like a
 * platform's JPEG) are written to a temporary folder, then converted, alternately, by:
 * - the pipeline: `derivePicture(path)` — header check, one decode (oriented, sRGB, 8-bit),
 *   3 widths × AVIF/WebP/JPEG, ThumbHash and colour;
 * - sharp alone: for the same files, `sharp(path).resize(width).<format>(same options)` for each
 *   of the 9 outputs, run together as the pipeline runs its encodes (same parallelism).
 * Each side converts one picture at a time; rounds alternate sides and medians are reported.
 * Then the bytes per tile: the 320 px AVIF and WebP against the 1080 px original JPEG.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { ENCODER_OPTIONS, derivePicture, widthsFor } from '../src/archive/images/derive.ts'
import { VARIANT_FORMATS, type VariantFormat } from '../src/archive/images/formats.ts'
import { demoPicture } from '../src/archive/images/demo-pictures.ts'
import { QUICK, fmt, line, machine, median } from './lib.ts'

const N = QUICK ? 4 : 12
const ROUNDS = QUICK ? 1 : 3

async function sharpAlone(path: string, width: number): Promise<number> {
  const outputs = await Promise.all(
    // Widest first, as the pipeline submits them (the longest encode starts first).
    [...widthsFor(width)].reverse().flatMap((w) =>
      VARIANT_FORMATS.map((format: VariantFormat) => {
        const image = sharp(path).resize({ width: w, withoutEnlargement: true })
        const encoded =
          format === 'avif'
            ? image.avif(ENCODER_OPTIONS.avif)
            : format === 'webp'
              ? image.webp(ENCODER_OPTIONS.webp)
              : image.jpeg(ENCODER_OPTIONS.jpeg)
        return encoded.toBuffer()
      }),
    ),
  )
  return outputs.length
}

export async function archivePipelineBenchmark(): Promise<void> {
  console.log(`# archive picture pipeline on ${machine()}, ${N} pictures × ${ROUNDS} rounds`)
  const dir = mkdtempSync(join(tmpdir(), 'psg-bench-pictures-'))
  const startRss = process.memoryUsage().rss
  let peakRss = startRss
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
  }, 50)
  try {
    const files: { path: string; bytes: number }[] = []
    for (let i = 0; i < N; i++) {
      const jpeg = await demoPicture(`bench-${i}`, 1080, i % 2 === 0 ? 1350 : 1080)
      const path = join(dir, `${i}.jpg`)
      writeFileSync(path, jpeg)
      files.push({ path, bytes: jpeg.length })
    }

    const pipelineRates: number[] = []
    const sharpRates: number[] = []
    const avifRatios: number[] = []
    const webpRatios: number[] = []
    const jpegRatios: number[] = []
    const avif320: number[] = []
    const webp320: number[] = []
    // Warm both paths (first-call costs: loading codecs, the thread pool).
    await derivePicture(files[0]?.path ?? '')
    await sharpAlone(files[0]?.path ?? '', 1080)
    for (let round = 0; round < ROUNDS; round++) {
      let started = performance.now()
      for (const file of files) {
        const picture = await derivePicture(file.path)
        if (round === 0) {
          const at = (format: VariantFormat): number =>
            picture.variants.find((v) => v.width === 320 && v.format === format)?.bytes.length ??
            NaN
          avif320.push(at('avif'))
          webp320.push(at('webp'))
          avifRatios.push(at('avif') / file.bytes)
          webpRatios.push(at('webp') / file.bytes)
          jpegRatios.push(at('jpeg') / file.bytes)
        }
      }
      pipelineRates.push(N / ((performance.now() - started) / 1000))
      started = performance.now()
      for (const file of files) await sharpAlone(file.path, 1080)
      sharpRates.push(N / ((performance.now() - started) / 1000))
    }
    const ours = median(pipelineRates)
    const alone = median(sharpRates)
    line(
      'pictures/s, full pipeline vs sharp alone (9 outputs each)',
      `${fmt(ours, 2)} vs ${fmt(alone, 2)} → ${fmt(ours / alone, 2)}× (rounds: ${pipelineRates.map((r) => fmt(r, 2)).join(', ')} vs ${sharpRates.map((r) => fmt(r, 2)).join(', ')})`,
    )
    const originals = median(files.map((f) => f.bytes))
    line(
      'bytes per tile, AVIF 320 vs the 1080 JPEG original',
      `${fmt(median(avif320))} vs ${fmt(originals)} B → ${fmt(median(avifRatios), 3)} (1/${fmt(1 / median(avifRatios), 0)})`,
    )
    line(
      'bytes per tile, WebP 320 vs the 1080 JPEG original',
      `${fmt(median(webp320))} vs ${fmt(originals)} B → ${fmt(median(webpRatios), 3)} (1/${fmt(1 / median(webpRatios), 0)})`,
    )
    line('bytes per tile, JPEG 320 vs the 1080 JPEG original', `${fmt(median(jpegRatios), 3)}`)
    line(
      'peak resident memory during the run',
      `${fmt(peakRss / 2 ** 20)} MB (${fmt(startRss / 2 ** 20)} MB at the start)`,
    )
  } finally {
    clearInterval(sampler)
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await archivePipelineBenchmark()
