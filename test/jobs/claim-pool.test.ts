/** The claim pool: workers start only while there is work, never more than asked, and stop. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { drainClaims } from '../../src/socials/claim-pool.ts'

const tick = () => new Promise((resolve) => setTimeout(resolve, 5))

test('claims one item per free worker, up to the concurrency and the maximum', async () => {
  const queue = Array.from({ length: 20 }, (_, i) => i)
  let inFlight = 0
  let most = 0
  let claims = 0
  const done: number[] = []
  const started = await drainClaims({
    concurrency: 3,
    max: 12,
    stopped: () => false,
    claim: async () => {
      claims++
      return queue.shift()
    },
    work: async (item) => {
      inFlight++
      most = Math.max(most, inFlight)
      await tick()
      inFlight--
      done.push(item)
    },
  })
  assert.equal(started, 12)
  assert.equal(most, 3)
  assert.deepEqual(
    done.sort((a, b) => a - b),
    Array.from({ length: 12 }, (_, i) => i),
  )
  assert.equal(claims, 12, 'no claim beyond the maximum')
})

test('a pass with nothing due costs one claim; stopping ends every worker', async () => {
  let claims = 0
  assert.equal(
    await drainClaims({
      concurrency: 4,
      max: 100,
      stopped: () => false,
      claim: async () => {
        claims++
        return undefined
      },
      work: async () => undefined,
    }),
    0,
  )
  assert.equal(claims, 1)
  let stop = false
  let handled = 0
  const started = await drainClaims({
    concurrency: 2,
    max: 100,
    stopped: () => stop,
    claim: async () => 1,
    work: async () => {
      handled++
      if (handled === 5) stop = true
      await tick()
    },
  })
  assert.ok(started >= 5 && started <= 6, `started ${started}`)
})
