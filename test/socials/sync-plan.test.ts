/**
 * The sync plan of a platform whose accounts share a daily quota (`socials/sync-plan.ts`) and the
 * even pace of a day's routine work (`paceWaitUntil`): intervals stretch for everyone alike, the
 * plan never spends more than the quota allows, full reconciliations come at least every 30 days,
 * and a quota too small for that says so.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  MAX_REFRESH_AGE_MS,
  PLAN_MARGIN,
  fullSyncUnits,
  planSyncs,
  type SyncCost,
} from '../../src/socials/sync-plan.ts'
import { paceWaitUntil } from '../../src/socials/rate-governor.ts'
import { YOUTUBE_CAPABILITIES } from '../../src/providers/youtube/capabilities.ts'
import { X_CAPABILITIES } from '../../src/providers/x/capabilities.ts'

const DAY = 86_400_000
const HOUR = 3_600_000
const YOUTUBE = YOUTUBE_CAPABILITIES.budgets.syncCost as SyncCost
const CONFIGURED = { intervalMs: HOUR, fullIntervalMs: DAY }

const spendOf = (plan: { intervalMs: number; fullIntervalMs: number }, n: number, posts: number) =>
  n * DAY * (2 / plan.intervalMs + (fullSyncUnits(YOUTUBE, posts / n) - 2) / plan.fullIntervalMs)

test('YouTube’s sync cost: 1 + 2·⌈N/50⌉ units for a full sync, 2 for an unchanged one', () => {
  assert.equal(YOUTUBE.unchanged, 2)
  assert.equal(fullSyncUnits(YOUTUBE, 0), 3)
  assert.equal(fullSyncUnits(YOUTUBE, 50), 3)
  assert.equal(fullSyncUnits(YOUTUBE, 51), 5)
  assert.equal(fullSyncUnits(YOUTUBE, 1000), 41)
})

test('below the quota the configured intervals stand; no quota, no plan', () => {
  const plan = planSyncs({
    accounts: 50,
    posts: 50 * 30,
    routineUnitsPerDay: 8000,
    cost: YOUTUBE,
    ...CONFIGURED,
  })
  assert.equal(plan.stretched, false)
  assert.equal(plan.intervalMs, HOUR)
  assert.equal(plan.fullIntervalMs, DAY)
  assert.equal(plan.warning, null)
  // 50 accounts: 48 routine syncs and one full a day each
  assert.equal(plan.unitsPerDay, Math.round(spendOf(plan, 50, 1500)))
  const instagram = planSyncs({
    accounts: 100_000,
    posts: 0,
    routineUnitsPerDay: null,
    cost: null,
    ...CONFIGURED,
  })
  assert.deepEqual(
    [instagram.intervalMs, instagram.fullIntervalMs, instagram.stretched],
    [HOUR, DAY, false],
  )
})

test('10,000 channels on 10,000 units: every one every ≈2.7 days (bound 2.5), full every 30 days, within the quota', () => {
  const plan = planSyncs({
    accounts: 10_000,
    posts: 10_000 * 30,
    routineUnitsPerDay: 8000,
    cost: YOUTUBE,
    ...CONFIGURED,
  })
  assert.equal(plan.stretched, true)
  assert.equal(plan.warning, null)
  assert.equal(plan.fullIntervalMs, MAX_REFRESH_AGE_MS)
  const lowerBound = (10_000 * 2 * DAY) / 8000
  const ratio = plan.intervalMs / lowerBound
  assert.ok(ratio >= 1 && ratio <= 1.08, `ratio ${ratio}`)
  assert.ok(spendOf(plan, 10_000, 300_000) <= 8000 * (1 - PLAN_MARGIN) + 1)
})

test('a quota too small to refresh every account within 30 days: 30 days and a warning', () => {
  const plan = planSyncs({
    accounts: 200_000,
    posts: 200_000 * 10,
    routineUnitsPerDay: 8000,
    cost: YOUTUBE,
    ...CONFIGURED,
  })
  assert.equal(plan.intervalMs, MAX_REFRESH_AGE_MS)
  assert.equal(plan.fullIntervalMs, MAX_REFRESH_AGE_MS)
  assert.match(plan.warning ?? '', /200,000 accounts need about [\d,]+ units a day/)
  assert.match(plan.warning ?? '', /within 30 days/)
})

test('property: a plan that holds never spends more than the quota, stretches evenly and refreshes within 30 days', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 300_000 }),
      fc.integer({ min: 0, max: 2000 }),
      fc.integer({ min: 10, max: 1_000_000 }),
      fc.integer({ min: 5, max: 10_080 }),
      fc.integer({ min: 1, max: 24 * 30 }),
      (accounts, postsEach, quota, intervalMinutes, fullHours) => {
        const configured = {
          intervalMs: intervalMinutes * 60_000,
          fullIntervalMs: fullHours * HOUR,
        }
        const plan = planSyncs({
          accounts,
          posts: accounts * postsEach,
          routineUnitsPerDay: quota,
          cost: YOUTUBE,
          ...configured,
        })
        assert.ok(plan.intervalMs >= configured.intervalMs)
        assert.ok(plan.fullIntervalMs >= Math.min(configured.fullIntervalMs, plan.fullIntervalMs))
        assert.ok(plan.fullIntervalMs >= plan.intervalMs || !plan.stretched)
        if (plan.warning === null) {
          assert.ok(
            spendOf(plan, accounts, accounts * postsEach) <= quota + 1e-6,
            `spends ${spendOf(plan, accounts, accounts * postsEach)} of ${quota}`,
          )
          if (plan.stretched) assert.ok(plan.fullIntervalMs <= MAX_REFRESH_AGE_MS)
        } else {
          assert.equal(plan.intervalMs, MAX_REFRESH_AGE_MS)
        }
      },
    ),
  )
})

test('the day’s pace: routine work keeps to an even share of its quota, a small burst ahead at most', () => {
  const day = { start: 0, end: DAY }
  // 8,000 routine units: 80 may be spent ahead of the pace
  assert.equal(paceWaitUntil(day, 8000, 0, 0), null)
  assert.equal(paceWaitUntil(day, 8000, 79, 0), null)
  const early = paceWaitUntil(day, 8000, 80, 0)
  assert.equal(early, 1000, 'at once over the burst: a moment later')
  // at noon 4,000 + 80 may have gone
  assert.equal(paceWaitUntil(day, 8000, 4079, DAY / 2), null)
  const ahead = paceWaitUntil(day, 8000, 6080, DAY / 2)
  assert.equal(ahead, (6000 / 8000) * DAY, 'waits until the pace has caught up')
  assert.equal(paceWaitUntil(day, 8000, 8000, DAY / 2), DAY, 'the share is spent: the next day')
  // a small quota still lets a sync or two through
  assert.equal(paceWaitUntil(day, 8, 0, 0), null)
})

const X = X_CAPABILITIES.budgets.syncCost as SyncCost

test('X: full reconciliations within a day (deleted posts leave in time) while the read limit allows; beyond it, how late they may come', () => {
  // the default limit, 10,000 post reads a month, 10 % reserved: 300 a day for routine syncs
  const routine = (10_000 * 0.9) / 30
  const small = planSyncs({
    accounts: 2,
    posts: 2 * 40,
    routineUnitsPerDay: routine,
    cost: X,
    intervalMs: HOUR,
    fullIntervalMs: 7 * DAY,
  })
  assert.equal(small.warning, null)
  assert.ok(small.fullIntervalMs <= 22 * HOUR, 'a configured week is bounded by X’s day')
  assert.ok(small.unitsPerDay <= routine)
  // one account of 2,000 posts: a daily reconciliation reads 2,000 posts, the month allows 300
  const big = planSyncs({
    accounts: 1,
    posts: 2000,
    routineUnitsPerDay: routine,
    cost: X,
    intervalMs: HOUR,
    fullIntervalMs: DAY,
  })
  // both stretch alike: new posts still come many times a day, deletions within days
  assert.ok(big.intervalMs >= HOUR && big.intervalMs < 12 * HOUR, `${big.intervalMs / HOUR} h`)
  assert.ok(big.fullIntervalMs > 22 * HOUR && big.fullIntervalMs < 30 * DAY)
  assert.ok(big.unitsPerDay <= routine * (1 - PLAN_MARGIN) + 1, `${big.unitsPerDay}`)
  assert.match(big.warning ?? '', /posts deleted on X may stay in the gallery up to [\d.]+ days/)
  assert.match(big.warning ?? '', /new ones take up to \d+ (minutes|hours) to arrive/)
  assert.match(big.warning ?? '', /Raise X_MONTHLY_POST_READ_LIMIT/)
  // a limit that fits: no warning
  const raised = planSyncs({
    accounts: 1,
    posts: 2000,
    routineUnitsPerDay: 100_000,
    cost: X,
    intervalMs: HOUR,
    fullIntervalMs: DAY,
  })
  assert.equal(raised.warning, null)
  assert.ok(raised.fullIntervalMs <= 22 * HOUR)
})
