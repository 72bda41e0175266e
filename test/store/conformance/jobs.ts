/** Conformance: renewal and sync claims and leases (`JobStore`). */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { DAY, NOW, TOKEN, oauthInput } from './harness.ts'

export function jobCases({ test, harness, user, account }: Conformance): void {
  test('renewal: claims are exclusive, completion is a compare-and-swap, failure holds a backoff', async () => {
    const h = harness()
    const alice = await user()
    const id = await account(alice) // issued NOW, expires NOW + 60 days
    const claim = {
      now: NOW + 40 * 86_400_000,
      dueBefore: NOW + 70 * 86_400_000,
      issuedBefore: NOW + 39 * 86_400_000,
      leaseUntil: NOW + 40 * 86_400_000 + 60_000,
      limit: 10,
    }
    assert.equal(
      (await h.store.claimDueRenewals({ ...claim, issuedBefore: NOW - 1 })).length,
      0,
      'too young',
    )
    assert.equal(
      (await h.store.claimDueRenewals({ ...claim, dueBefore: NOW + 59 * 86_400_000 })).length,
      0,
      'not due',
    )
    const [first, second] = await Promise.all([
      h.store.claimDueRenewals(claim),
      h.store.claimDueRenewals(claim),
    ])
    assert.equal((first?.length ?? 0) + (second?.length ?? 0), 1, 'one claim wins')
    assert.equal(
      (await h.raw('SELECT renew_lease_until AS l FROM user_social_accounts'))[0]?.l,
      claim.leaseUntil,
    )
    const lost = await h.store.completeRenewal({
      accountId: id,
      previousToken: 'gAAAAA-stale',
      encryptedToken: 'gAAAAA-new',
      expiresAt: 1,
      issuedAt: 1,
      now: claim.now,
    })
    assert.equal(lost, false, 'a stale previous token does not overwrite')
    await h.store.failRenewal({
      accountId: id,
      previousToken: TOKEN,
      status: 'degraded',
      message: 'later',
      retryAt: claim.now + 900_000,
      now: claim.now,
    })
    assert.deepEqual(
      await h.raw(
        'SELECT status, renewal_failures, renew_lease_until, encrypted_access_token FROM user_social_accounts',
      ),
      [
        {
          status: 'degraded',
          renewal_failures: 1,
          renew_lease_until: claim.now + 900_000,
          encrypted_access_token: 'gAAAAA-encrypted',
        },
      ],
    )
    assert.equal(
      (await h.store.claimDueRenewals({ ...claim, now: claim.now + 1 })).length,
      0,
      'backing off',
    )
    const again = await h.store.claimDueRenewals({ ...claim, now: claim.now + 900_000 })
    assert.equal(again.length, 1)
    assert.equal(
      await h.store.completeRenewal({
        accountId: id,
        previousToken: 'gAAAAA-encrypted',
        encryptedToken: 'gAAAAA-new',
        expiresAt: 7,
        issuedAt: 6,
        now: 5,
      }),
      true,
    )
    assert.deepEqual(
      await h.raw(
        'SELECT status, renewal_failures, renew_lease_until, encrypted_access_token, token_expires_at FROM user_social_accounts',
      ),
      [
        {
          status: 'active',
          renewal_failures: 0,
          renew_lease_until: null,
          encrypted_access_token: 'gAAAAA-new',
          token_expires_at: 7,
        },
      ],
    )
    assert.deepEqual(
      (await h.store.markExpiredTokens(8, 'expired')).map((a) => [a.id, a.status]),
      [[id, 'reauth_required']],
    )
    assert.equal((await h.store.markExpiredTokens(8, 'expired')).length, 0, 'once')
  })

  test('sync claims are exclusive and skip accounts that cannot sync; a lease is taken once', async () => {
    const h = harness()
    const alice = await user()
    const ready = await account(alice, '1')
    const later = await account(alice, '2')
    const revoked = await account(alice, '3')
    await h.store.updateAccount(later, { next_sync_at: NOW + 10, now: NOW })
    await h.store.updateAccount(revoked, { status: 'revoked', now: NOW })
    const claim = { now: NOW, leaseUntil: NOW + 300_000, limit: 10 }
    const [one, two] = await Promise.all([
      h.store.claimDueSyncs(claim),
      h.store.claimDueSyncs({ ...claim, leaseUntil: NOW + 300_001 }),
    ])
    assert.deepEqual(
      [...(one ?? []), ...(two ?? [])].map((a) => a.id),
      [ready],
      'only the due one, and only once',
    )
    assert.equal(await h.store.acquireSyncLease(ready, NOW + 1, NOW + 2), false, 'held')
    assert.equal(await h.store.acquireSyncLease(later, NOW + 1, NOW + 2), true)
    assert.equal(await h.store.acquireSyncLease(later, NOW + 1, NOW + 3), false)
    assert.equal(
      await h.store.acquireSyncLease(ready, NOW + 300_000, NOW + 400_000),
      true,
      'expired lease taken over',
    )
    assert.deepEqual(
      (await h.store.claimDueSyncs({ ...claim, now: NOW + 400_001 })).map((a) => a.id).sort(),
      [ready, later].sort(),
    )
  })

  test('renewal: a failure never overwrites a revocation, and only lands on the token it renewed', async () => {
    const h = harness()
    const alice = await user()
    const id = await account(alice)
    const now = NOW + 40 * DAY
    const claimed = await h.store.claimDueRenewals({
      now,
      dueBefore: now + 30 * DAY,
      issuedBefore: now - DAY,
      leaseUntil: now + 120_000,
      limit: 10,
    })
    assert.deepEqual(
      claimed.map((a) => [a.id, a.encrypted_access_token]),
      [[id, TOKEN]],
    )
    // Meta's deauthorize lands while the refresh is in flight (review D4), and the refresh then
    // fails with code 190: the revocation stands (purge keeps it only for the retention period)
    await h.store.revokeInstagramAccounts('17841400000000001', 'Revoked on Instagram', now + 1)
    const onRevoked = await h.store.failRenewal({
      accountId: id,
      previousToken: TOKEN,
      status: 'reauth_required',
      message: 'Reconnect',
      retryAt: now + 900_000,
      now: now + 2,
    })
    const row = (accountId: string) =>
      h.raw(
        'SELECT status, status_message, renewal_failures, renew_lease_until, encrypted_access_token, updated_at FROM user_social_accounts WHERE id = ?',
        [accountId],
      )
    assert.deepEqual(await row(id), [
      {
        status: 'revoked',
        status_message: 'Revoked on Instagram',
        renewal_failures: 0,
        renew_lease_until: now + 120_000,
        encrypted_access_token: null,
        updated_at: now + 1,
      },
    ])
    assert.equal(onRevoked, false, 'nothing recorded')

    // reconnected meanwhile (a new token, fresh state): the old renewal's failure is stale
    const other = await account(alice, '2')
    await h.store.upsertOAuthAccount({
      ...oauthInput(alice, '2'),
      encrypted_access_token: 'gAAAAA-reconnected',
      now: now + 3,
    })
    const fail = (previousToken: string) =>
      h.store.failRenewal({
        accountId: other,
        previousToken,
        status: 'degraded',
        message: 'Token renewal will be retried',
        retryAt: now + 900_000,
        now: now + 4,
      })
    assert.equal(await fail(TOKEN), false)
    assert.deepEqual(await row(other), [
      {
        status: 'active',
        status_message: null,
        renewal_failures: 0,
        renew_lease_until: null,
        encrypted_access_token: 'gAAAAA-reconnected',
        updated_at: now + 3,
      },
    ])
    assert.equal(await fail('gAAAAA-reconnected'), true, 'the token it renewed')
    assert.deepEqual(await row(other), [
      {
        status: 'degraded',
        status_message: 'Token renewal will be retried',
        renewal_failures: 1,
        renew_lease_until: now + 900_000,
        encrypted_access_token: 'gAAAAA-reconnected',
        updated_at: now + 4,
      },
    ])
  })
}
