import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createProgress,
  formatBytes,
  formatCount,
  formatDuration,
} from '../../src/maintenance/progress.ts'

/** A stream that keeps what is written, and a clock moved by hand. */
function fakes(isTTY: boolean) {
  const writes: string[] = []
  let time = 1_000_000
  return {
    stream: { isTTY, write: (text: string) => writes.push(text) },
    writes,
    now: () => time,
    advance: (ms: number) => {
      time += ms
    },
  }
}

test('progress numbers: counts with separators, durations, bytes', () => {
  assert.equal(formatCount(1234567), '1,234,567')
  assert.equal(formatDuration(45_000), '45s')
  assert.equal(formatDuration(153_000), '2m33s')
  assert.equal(formatDuration(3_900_000), '1h05m')
  assert.equal(formatBytes(512), '512 B')
  assert.equal(formatBytes(1536), '1.5 KB')
  assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GB')
})

test('progress on a terminal: one line redrawn with \\r, with rate and ETA, ended by a newline', () => {
  const f = fakes(true)
  const progress = createProgress({ label: 'verify', total: 5000, stream: f.stream, now: f.now })
  f.advance(50)
  progress.tick() // too soon after the start: not drawn
  assert.deepEqual(f.writes, [])
  f.advance(50_100)
  progress.tick(1233)
  assert.equal(f.writes.length, 1)
  const firstLine = f.writes[0] ?? ''
  const width = firstLine.length
  assert.equal(firstLine, '\rverify  1,234/5,000  24.6/s  ETA 2m33s')
  f.advance(10)
  progress.tick() // within the redraw interval
  assert.equal(f.writes.length, 1)
  f.advance(200_000)
  progress.tick(3765) // the last one: drawn, no ETA, padded over the longer line before
  const last = f.writes[1] ?? ''
  assert.match(last, /^\rverify {2}5,000\/5,000 {2}20\.0\/s +$/)
  assert.equal(last.length, width)
  progress.done('all intact')
  assert.deepEqual(f.writes.slice(-2), ['\n', 'all intact\n'])
  assert.equal(progress.count, 5000)
})

test('progress elsewhere: whole lines every N items or every few seconds, never \\r', () => {
  const f = fakes(false)
  const progress = createProgress({
    label: 'backfill',
    total: null,
    stream: f.stream,
    now: f.now,
    everyItems: 100,
    everyMs: 5_000,
  })
  for (let i = 0; i < 250; i++) {
    f.advance(10)
    progress.tick()
  }
  assert.deepEqual(f.writes, ['backfill  100  100.0/s\n', 'backfill  200  100.0/s\n'])
  f.advance(6_000)
  progress.tick() // few items, but seconds went by
  assert.equal(f.writes.at(-1), 'backfill  251  29.5/s\n')
  progress.setTotal(300)
  f.advance(1_000)
  progress.tick(4)
  progress.done()
  assert.equal(f.writes.at(-1), 'backfill  255/300  26.8/s  ETA 2s\n', 'the last count is said')
  assert.ok(f.writes.every((w) => !w.includes('\r')))
  progress.done()
  progress.tick()
  assert.equal(f.writes.length, 4, 'nothing after done')
})

test('progress with nothing to do still says so once', () => {
  const f = fakes(false)
  createProgress({ label: 'gc', total: 0, stream: f.stream, now: f.now }).done()
  assert.deepEqual(f.writes, ['gc  0/0  0.0/s\n'])
})
