/** Conformance: revocations queued with the deletion of their account (`RevocationStore`). */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { NOW } from './harness.ts'

const MINUTE = 60_000

export function revocationCases({ test, harness, user, account }: Conformance): void {
  test('revocations: queued with the account’s deletion, atomically; nothing queued for no account', async () => {
    const h = harness()
    const alice = await user()
    const bob = await user('b@example.com')
    const id = await account(alice)
    const input = {
      id: 'rev-1',
      platform: 'youtube',
      encrypted_credentials: 'gAAAAA-sealed',
      next_attempt_at: NOW + MINUTE,
      expires_at: NOW + 7 * 24 * 60 * MINUTE,
      last_error: 'ERR_PROVIDER_UNAVAILABLE',
      now: NOW,
    }
    // another user's account: not deleted, nothing queued
    assert.equal(await h.store.deleteAccountRevokingLater(bob, id, input), false)
    assert.equal((await h.raw('SELECT * FROM pending_revocations')).length, 0)
    assert.equal(await h.store.deleteAccountRevokingLater(alice, id, input), true)
    assert.equal((await h.raw('SELECT * FROM user_social_accounts')).length, 0)
    const [row] = await h.raw('SELECT * FROM pending_revocations')
    assert.equal(row?.platform, 'youtube')
    assert.equal(row?.encrypted_credentials, 'gAAAAA-sealed')
    assert.equal(Number(row?.attempts), 1, 'the disconnect made the first attempt')
    assert.equal(row?.last_error, 'ERR_PROVIDER_UNAVAILABLE')
    // a second deletion of the same account: nothing left to delete, nothing queued
    assert.equal(
      await h.store.deleteAccountRevokingLater(alice, id, { ...input, id: 'rev-2' }),
      false,
    )
    assert.equal((await h.raw('SELECT * FROM pending_revocations')).length, 1)
    // queued on its own ("delete all my data" deletes the accounts afterwards)
    await h.store.queueRevocation({ ...input, id: 'rev-3' })
    assert.deepEqual(
      (await h.raw('SELECT id, attempts FROM pending_revocations ORDER BY id')).map((r) => [
        r.id,
        Number(r.attempts),
      ]),
      [
        ['rev-1', 1],
        ['rev-3', 1],
      ],
    )
  })

  test('revocations: leased once when due, retried later, finished by their owner only, purged when expired', async () => {
    const h = harness()
    const alice = await user()
    const queue = async (n: number, next: number, expires: number) =>
      h.store.deleteAccountRevokingLater(alice, await account(alice, `1784140000000000${n}`), {
        id: `rev-${n}`,
        platform: 'youtube',
        encrypted_credentials: `gAAAAA-${n}`,
        next_attempt_at: next,
        expires_at: expires,
        last_error: null,
        now: NOW,
      })
    await queue(1, NOW + MINUTE, NOW + 60 * MINUTE)
    await queue(2, NOW + 30 * MINUTE, NOW + 60 * MINUTE)
    await queue(3, NOW, NOW + 1) // expires before it is tried
    const claim = { now: NOW + MINUTE, leaseUntil: NOW + 3 * MINUTE, limit: 10, owner: 'i:a' }
    const [a, b] = await Promise.all([
      h.store.claimDueRevocations(claim),
      h.store.claimDueRevocations({ ...claim, owner: 'i:b' }),
    ])
    const claimed = [...a, ...b]
    assert.deepEqual(
      claimed.map((r) => r.id),
      ['rev-1'],
      'only the due one, not expired, once',
    )
    const [first] = claimed
    assert.ok(first)
    assert.equal(first.encrypted_credentials, 'gAAAAA-1')
    assert.equal(await h.store.finishRevocation('rev-1', 'i:someone-else'), false)
    assert.equal(
      await h.store.retryRevocation({
        id: 'rev-1',
        owner: first.lease_owner ?? '',
        attempts: 2,
        nextAttemptAt: NOW + 10 * MINUTE,
        lastError: 'ERR_RATE_LIMITED',
      }),
      true,
    )
    assert.equal((await h.store.claimDueRevocations(claim)).length, 0, 'not due again yet')
    const later = { ...claim, now: NOW + 31 * MINUTE, leaseUntil: NOW + 33 * MINUTE }
    const again = await h.store.claimDueRevocations(later)
    assert.deepEqual(
      again.map((r) => [r.id, r.attempts, r.last_error]),
      [
        ['rev-1', 2, 'ERR_RATE_LIMITED'],
        ['rev-2', 1, null],
      ],
    )
    assert.equal(await h.store.finishRevocation('rev-1', 'i:a'), true)
    assert.equal(await h.store.purgeExpiredRevocations(NOW + 2), 1, 'rev-3 expired')
    assert.deepEqual(
      (await h.raw('SELECT id FROM pending_revocations')).map((r) => r.id),
      ['rev-2'],
    )
  })
}
