/**
 * The sliding-window budget arithmetic of `reserveApiCall`, on its own: unit cases for the
 * boundaries, and properties over generated call sequences replayed through `admitCall` the way
 * the store does (one row per scope, written back when a call is admitted).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  admitCall,
  capRetryAt,
  windowState,
  type WindowCounts,
} from '../../src/store/sliding-window.ts'

const HOUR = 3_600_000
const START = 1_750_003_200_000 // a multiple of an hour: the start of a window

interface Replay {
  readonly admitted: number[]
  /** Each refusal with the row it was decided on. */
  readonly refusals: { now: number; retryAt: number; row: WindowCounts | undefined }[]
  readonly row: WindowCounts | undefined
}

/** Replays calls in time order through `admitCall`, keeping the row as the store would. */
function replay(times: readonly number[], windowMs: number, cap: number | null): Replay {
  let row: WindowCounts | undefined
  const admitted: number[] = []
  const refusals: Replay['refusals'] = []
  for (const now of times) {
    const verdict = admitCall(row, now, windowMs, cap)
    if (verdict.allowed) {
      row = verdict.counts
      admitted.push(now)
    } else refusals.push({ now, retryAt: verdict.retryAt, row })
  }
  return { admitted, refusals, row }
}

/** How many of `times` fall in `[from, from + span)`. */
function within(times: readonly number[], from: number, span: number): number {
  return times.filter((t) => t >= from && t < from + span).length
}

/** A budget and a non-decreasing call sequence: bursts, near-rate traffic and long pauses. */
const scenario = fc
  .record({
    windowMs: fc.constantFrom(1_000, 60_000, HOUR, 7_919),
    cap: fc.integer({ min: 1, max: 12 }),
    start: fc.integer({ min: 0, max: 2_000_000_000_000 }),
  })
  .chain(({ windowMs, cap, start }) =>
    fc
      .array(
        fc.oneof(
          fc.constant(0),
          fc.integer({ min: 0, max: Math.ceil(windowMs / cap) }),
          fc.integer({ min: 0, max: 3 * windowMs }),
        ),
        { maxLength: 120 },
      )
      .map((gaps) => {
        let t = start
        return { windowMs, cap, times: gaps.map((gap) => (t += gap)) }
      }),
  )

describe('sliding window: unit cases', () => {
  test('the previous window counts by its overlap; older windows are forgotten', () => {
    const row = { window_start: START, window_calls: 4, previous_window_calls: 9 }
    assert.deepEqual(windowState(row, START + HOUR / 4, HOUR), {
      windowStart: START,
      calls: 4,
      previous: 9,
      estimate: 9 * 0.75 + 4,
    })
    assert.deepEqual(windowState(row, START + HOUR + HOUR / 2, HOUR), {
      windowStart: START + HOUR,
      calls: 0,
      previous: 4,
      estimate: 2,
    })
    assert.equal(windowState(row, START + 2 * HOUR, HOUR).estimate, 0)
    assert.equal(windowState(undefined, START + 5, HOUR).estimate, 0)
  })

  test('a full window: retry once the previous weight leaves room (the conformance numbers)', () => {
    const { row } = replay([START, START + 1, START + 2], HOUR, 3)
    const refused = admitCall(row, START + 10, HOUR, 3)
    assert.deepEqual(refused, { allowed: false, retryAt: START + HOUR + Math.ceil(HOUR / 3) })
    assert.equal(admitCall(row, START + HOUR + Math.ceil(HOUR / 3) - 1, HOUR, 3).allowed, false)
    assert.deepEqual(admitCall(row, START + HOUR + Math.ceil(HOUR / 3), HOUR, 3), {
      allowed: true,
      counts: { window_start: START + HOUR, window_calls: 1, previous_window_calls: 3 },
    })
  })

  test('room left in this window: retry as soon as the previous window weighs little enough', () => {
    // four calls last window, one this window, cap four: the next fits once 4 × overlap + 1 ≤ 3
    const row = { window_start: START, window_calls: 1, previous_window_calls: 4 }
    const state = windowState(row, START + 1, HOUR)
    assert.equal(capRetryAt(state, 4, HOUR), START + HOUR / 2)
  })

  test('no cap: every call is admitted and counted', () => {
    const { admitted, row } = replay([START, START, START + 1, START + HOUR], HOUR, null)
    assert.equal(admitted.length, 4)
    assert.deepEqual(row, {
      window_start: START + HOUR,
      window_calls: 1,
      previous_window_calls: 3,
    })
  })

  test('known limit: a burst at the end of one window and early calls in the next can exceed the cap in a straddling span', () => {
    const late = START + HOUR - 1
    const { admitted } = replay([late, late, late, START + HOUR + HOUR / 3], HOUR, 3)
    assert.equal(admitted.length, 4)
    assert.equal(within(admitted, late, HOUR), 4, 'four calls within one hour, cap three')
  })
})

describe('sliding window: properties', () => {
  test('never more than the cap in one aligned window, nor twice the cap in any span', () => {
    fc.assert(
      fc.property(scenario, ({ windowMs, cap, times }) => {
        const { admitted } = replay(times, windowMs, cap)
        const perWindow = new Map<number, number>()
        for (const t of admitted) {
          const w = Math.floor(t / windowMs)
          perWindow.set(w, (perWindow.get(w) ?? 0) + 1)
        }
        for (const n of perWindow.values()) assert.ok(n <= cap, `${n} calls in one window`)
        // the busiest span of `windowMs` starts at some admitted call
        for (const t of admitted) assert.ok(within(admitted, t, windowMs) < 2 * cap)
      }),
      { numRuns: 500 },
    )
  })

  test('with no history, a burst gets exactly the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 80 }),
        fc.integer({ min: 0, max: HOUR - 1 }),
        (cap, n, offset) => {
          const now = START + offset
          const { admitted } = replay(Array<number>(n).fill(now), HOUR, cap)
          assert.equal(admitted.length, Math.min(n, cap))
        },
      ),
    )
  })

  test('a refusal names the first millisecond at which the call fits again', () => {
    fc.assert(
      fc.property(scenario, ({ windowMs, cap, times }) => {
        for (const { now, retryAt, row } of replay(times, windowMs, cap).refusals) {
          assert.ok(retryAt > now, 'later than the refused call')
          assert.equal(admitCall(row, retryAt, windowMs, cap).allowed, true, 'admitted then')
          assert.equal(admitCall(row, retryAt - 1, windowMs, cap).allowed, false, 'not before')
        }
      }),
      { numRuns: 500 },
    )
  })

  test('an admitted call is counted in the window it falls in, the previous window carried', () => {
    fc.assert(
      fc.property(scenario, ({ windowMs, cap, times }) => {
        const { admitted, row } = replay(times, windowMs, cap)
        const last = admitted[admitted.length - 1]
        if (last === undefined) return assert.equal(row, undefined)
        const windowStart = Math.floor(last / windowMs) * windowMs
        assert.deepEqual(row, {
          window_start: windowStart,
          window_calls: within(admitted, windowStart, windowMs),
          previous_window_calls: within(admitted, windowStart - windowMs, windowMs),
        })
      }),
      { numRuns: 300 },
    )
  })
})
