import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  admitFixedWindowCall,
  dayAt,
  describeWindow,
  instantOfWallClock,
  isTimeZone,
  monthAt,
  nextReset,
  windowAt,
  zoneOffsetMs,
} from '../../src/socials/budget-windows.ts'

const LA = 'America/Los_Angeles'
const HOUR = 3_600_000
const at = (iso: string) => Date.parse(iso)
const iso = (ms: number) => new Date(ms).toISOString()

test('zone offsets come from Intl: Los Angeles is −8 h in winter, −7 h in summer; UTC is 0', () => {
  assert.equal(zoneOffsetMs(LA, at('2026-01-15T12:00:00Z')), -8 * HOUR)
  assert.equal(zoneOffsetMs(LA, at('2026-07-15T12:00:00Z')), -7 * HOUR)
  assert.equal(zoneOffsetMs('UTC', at('2026-07-15T12:34:56.789Z')), 0)
  assert.equal(zoneOffsetMs('Asia/Kolkata', at('2026-07-15T12:00:00Z')), 5.5 * HOUR)
  // the change itself: 2026-03-08 02:00 PST is 10:00Z; 2026-11-01 02:00 PDT is 09:00Z
  assert.equal(zoneOffsetMs(LA, at('2026-03-08T09:59:59.999Z')), -8 * HOUR)
  assert.equal(zoneOffsetMs(LA, at('2026-03-08T10:00:00Z')), -7 * HOUR)
  assert.equal(zoneOffsetMs(LA, at('2026-11-01T08:59:59.999Z')), -7 * HOUR)
  assert.equal(zoneOffsetMs(LA, at('2026-11-01T09:00:00Z')), -8 * HOUR)
  assert.equal(isTimeZone(LA), true)
  assert.equal(isTimeZone('Mars/Olympus_Mons'), false)
})

test('a wall-clock time to an instant: twice-read times give the first, skipped ones are pushed past the gap', () => {
  assert.equal(iso(instantOfWallClock(LA, Date.UTC(2026, 0, 15))), '2026-01-15T08:00:00.000Z')
  // 02:30 never happens on 2026-03-08 in Los Angeles: 03:30 PDT, like Temporal's "compatible"
  assert.equal(iso(instantOfWallClock(LA, Date.UTC(2026, 2, 8, 2, 30))), '2026-03-08T10:30:00.000Z')
  // 01:30 happens twice on 2026-11-01: the first (PDT)
  assert.equal(
    iso(instantOfWallClock(LA, Date.UTC(2026, 10, 1, 1, 30))),
    '2026-11-01T08:30:00.000Z',
  )
})

test('daily at midnight Los Angeles: 24 h days, a 23 h day on 2026-03-08 and a 25 h day on 2026-11-01', () => {
  const daily = { kind: 'daily', timeZone: LA } as const
  const plain = windowAt(daily, at('2026-01-15T20:00:00Z'))
  assert.deepEqual(
    [iso(plain.start), iso(plain.end)],
    ['2026-01-15T08:00:00.000Z', '2026-01-16T08:00:00.000Z'],
  )
  // 23:59 on the 14th Pacific is still the 14th
  assert.equal(iso(dayAt(LA, at('2026-01-15T07:59:59.999Z')).start), '2026-01-14T08:00:00.000Z')

  const spring = dayAt(LA, at('2026-03-08T12:00:00Z'))
  assert.deepEqual(
    [iso(spring.start), iso(spring.end)],
    ['2026-03-08T08:00:00.000Z', '2026-03-09T07:00:00.000Z'],
  )
  assert.equal(spring.end - spring.start, 23 * HOUR)
  // the day before the change ends where it starts
  assert.equal(dayAt(LA, at('2026-03-08T07:00:00Z')).end, spring.start)

  const fall = dayAt(LA, at('2026-11-01T12:00:00Z'))
  assert.deepEqual(
    [iso(fall.start), iso(fall.end)],
    ['2026-11-01T07:00:00.000Z', '2026-11-02T08:00:00.000Z'],
  )
  assert.equal(fall.end - fall.start, 25 * HOUR)
  // both 01:30s of 2026-11-01 are in the same day
  assert.equal(dayAt(LA, at('2026-11-01T08:30:00Z')).start, fall.start)
  assert.equal(dayAt(LA, at('2026-11-01T09:30:00Z')).start, fall.start)
  assert.equal(nextReset(daily, at('2026-11-01T12:00:00Z')), fall.end)
})

test('a zone whose clocks skip midnight starts that day at the first instant it has (America/Santiago)', () => {
  // 2026-09-06: 00:00 −04 becomes 01:00 −03
  const day = dayAt('America/Santiago', at('2026-09-06T12:00:00Z'))
  assert.equal(iso(day.start), '2026-09-06T04:00:00.000Z')
  assert.equal(day.end - day.start, 23 * HOUR)
})

test('monthly: from the 1st at midnight to the next 1st, across a DST change and a year end', () => {
  const march = monthAt(LA, at('2026-03-31T23:00:00Z'))
  assert.deepEqual(
    [iso(march.start), iso(march.end)],
    ['2026-03-01T08:00:00.000Z', '2026-04-01T07:00:00.000Z'],
  )
  assert.equal(march.end - march.start, 31 * 24 * HOUR - HOUR)
  // 2027-01-01 03:00Z is still 31 December in Los Angeles
  const december = windowAt({ kind: 'monthly', timeZone: LA }, at('2027-01-01T03:00:00Z'))
  assert.deepEqual(
    [iso(december.start), iso(december.end)],
    ['2026-12-01T08:00:00.000Z', '2027-01-01T08:00:00.000Z'],
  )
  const utc = monthAt('UTC', at('2028-02-29T23:59:59.999Z'))
  assert.deepEqual(
    [iso(utc.start), iso(utc.end)],
    ['2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
  )
})

test('every instant lies in its window, and the next window starts where it ends (property)', () => {
  const zones = [
    'America/Los_Angeles',
    'Europe/Berlin',
    'Australia/Lord_Howe',
    'America/Santiago',
    'UTC',
  ]
  fc.assert(
    fc.property(
      fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
      fc.constantFrom(...zones),
      fc.constantFrom('daily' as const, 'monthly' as const),
      (instant, timeZone, kind) => {
        const window = windowAt({ kind, timeZone }, instant)
        assert.ok(window.start <= instant && instant < window.end)
        assert.equal(windowAt({ kind, timeZone }, window.end).start, window.end)
        assert.equal(windowAt({ kind, timeZone }, window.end - 1).start, window.start)
        if (kind === 'daily') {
          // days last 23 to 25 hours (Lord Howe moves by 30 minutes)
          assert.ok(
            window.end - window.start >= 23 * HOUR && window.end - window.start <= 25 * HOUR,
          )
        }
      },
    ),
    { numRuns: 500 },
  )
})

test('rolling windows are the aligned windows the sliding counter counts in; no fixed reset', () => {
  const quarter = { kind: 'rolling', ms: 15 * 60_000 } as const
  const window = windowAt(quarter, at('2026-05-05T10:20:00Z'))
  assert.deepEqual(
    [iso(window.start), iso(window.end)],
    ['2026-05-05T10:15:00.000Z', '2026-05-05T10:30:00.000Z'],
  )
  assert.equal(nextReset(quarter, at('2026-05-05T10:20:00Z')), null)
  assert.equal(describeWindow({ kind: 'rolling', ms: HOUR }), 'per hour')
  assert.equal(describeWindow(quarter), 'per 15 minutes')
  assert.equal(
    describeWindow({ kind: 'daily', timeZone: LA }),
    'per day (midnight America/Los_Angeles)',
  )
})

test('a fixed window admits calls up to its cap, costs included, then refuses until its end', () => {
  const bounds = dayAt(LA, at('2026-03-08T12:00:00Z'))
  let row = undefined as Parameters<typeof admitFixedWindowCall>[0]
  for (let i = 0; i < 3; i++) {
    const verdict = admitFixedWindowCall(row, bounds, 10_000, 3_000)
    assert.ok(verdict.allowed)
    row = verdict.counts
  }
  assert.equal(row?.window_calls, 9_000)
  assert.deepEqual(admitFixedWindowCall(row, bounds, 10_000, 3_000), {
    allowed: false,
    retryAt: bounds.end,
  })
  const one = admitFixedWindowCall(row, bounds, 10_000, 1)
  assert.ok(one.allowed)
  // the next day starts empty, whatever the previous one spent
  const next = dayAt(LA, bounds.end)
  const fresh = admitFixedWindowCall(row, next, 10_000, 3_000)
  assert.ok(fresh.allowed)
  assert.deepEqual(fresh.counts, {
    window_start: next.start,
    window_calls: 3_000,
    previous_window_calls: 0,
  })
  // no cap: only counted
  assert.ok(admitFixedWindowCall(row, bounds, null, 1_000_000).allowed)
})
