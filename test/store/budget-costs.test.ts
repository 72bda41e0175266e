/**
 * Costs in units, in the store's budget arithmetic on its own (`store/sliding-window.ts`): calls
 * of random costs replayed through `admitCall` (rolling) and `admitFixedWindowCall` (fixed) the
 * way `reserveApiCall` does. The cost-1 properties are in `sliding-window.test.ts`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  admitCall,
  admitFixedWindowCall,
  type WindowCounts,
} from '../../src/store/sliding-window.ts'

const HOUR = 3_600_000

/** A budget and a time-ordered sequence of calls, each with a cost that fits the cap. */
const scenario = fc
  .record({
    windowMs: fc.constantFrom(1_000, 60_000, HOUR, 7_919),
    cap: fc.integer({ min: 1, max: 40 }),
    start: fc.integer({ min: 0, max: 2_000_000_000_000 }),
  })
  .chain(({ windowMs, cap, start }) =>
    fc
      .array(
        fc.record({
          gap: fc.oneof(
            fc.constant(0),
            fc.integer({ min: 0, max: Math.ceil(windowMs / cap) }),
            fc.integer({ min: 0, max: 3 * windowMs }),
          ),
          cost: fc.integer({ min: 1, max: cap }),
        }),
        { maxLength: 120 },
      )
      .map((calls) => {
        let t = start
        return {
          windowMs,
          cap,
          calls: calls.map(({ gap, cost }) => ({ now: (t += gap), cost })),
        }
      }),
  )

test('rolling: never more than the cap in units per aligned window; a refusal names the first millisecond the call fits', () => {
  fc.assert(
    fc.property(scenario, ({ windowMs, cap, calls }) => {
      let row: WindowCounts | undefined
      const perWindow = new Map<number, number>()
      for (const { now, cost } of calls) {
        const verdict = admitCall(row, now, windowMs, cap, cost)
        if (verdict.allowed) {
          const start = Math.floor(now / windowMs) * windowMs
          assert.equal(verdict.counts.window_start, start)
          perWindow.set(start, (perWindow.get(start) ?? 0) + cost)
          assert.equal(verdict.counts.window_calls, perWindow.get(start))
          row = verdict.counts
        } else {
          assert.ok(verdict.retryAt > now)
          assert.equal(admitCall(row, verdict.retryAt, windowMs, cap, cost).allowed, true)
          assert.equal(admitCall(row, verdict.retryAt - 1, windowMs, cap, cost).allowed, false)
        }
      }
      for (const units of perWindow.values()) assert.ok(units <= cap)
    }),
  )
})

test('fixed: units add up to the cap exactly, a refusal spends nothing and waits for the end, the next window starts at zero', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 60 }),
      (cap, costs) => {
        const bounds = { start: 1_000, end: 2_000 }
        let row: WindowCounts | undefined
        let spent = 0
        for (const cost of costs) {
          const verdict = admitFixedWindowCall(row, bounds, cap, cost)
          assert.equal(verdict.allowed, spent + cost <= cap)
          if (verdict.allowed) {
            spent += cost
            row = verdict.counts
            assert.deepEqual(row, {
              window_start: 1_000,
              window_calls: spent,
              previous_window_calls: 0,
            })
          } else assert.equal(verdict.retryAt, bounds.end)
        }
        const next = admitFixedWindowCall(row, { start: 2_000, end: 3_000 }, cap, cap)
        assert.deepEqual(next, {
          allowed: true,
          counts: { window_start: 2_000, window_calls: cap, previous_window_calls: 0 },
        })
      },
    ),
  )
})
