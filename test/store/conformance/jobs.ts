/** Conformance: renewal and sync claims and leases (`JobStore`). */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { DAY, NOW, TOKEN, credentialColumns, oauthInput } from './harness.ts'

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
    const claimed = [...(first ?? []), ...(second ?? [])][0]
    assert.ok(claimed !== undefined)
    const version = claimed.credentials_version
    assert.equal(
      (await h.raw('SELECT renew_lease_until AS l FROM social_accounts_with_jobs'))[0]?.l,
      claim.leaseUntil,
    )
    const lost = await h.store.completeRenewal({
      accountId: id,
      expectedVersion: version - 1,
      credentials: credentialColumns(1, 1, 'gAAAAA-new'),
      now: claim.now,
    })
    assert.equal(lost, false, 'a stale version does not overwrite')
    assert.deepEqual(
      await h.raw(
        'SELECT encrypted_credentials, token_expires_at, credentials_version FROM user_social_accounts',
      ),
      [
        {
          encrypted_credentials: TOKEN,
          token_expires_at: NOW + 60 * DAY,
          credentials_version: version,
        },
      ],
    )
    await h.store.failRenewal({
      accountId: id,
      expectedVersion: version,
      status: 'degraded',
      message: 'later',
      retryAt: claim.now + 900_000,
      now: claim.now,
    })
    assert.deepEqual(
      await h.raw(
        'SELECT status, renewal_failures, renew_lease_until, encrypted_credentials, credentials_version FROM social_accounts_with_jobs',
      ),
      [
        {
          status: 'degraded',
          renewal_failures: 1,
          renew_lease_until: claim.now + 900_000,
          encrypted_credentials: 'gAAAAA-encrypted',
          credentials_version: version,
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
        expectedVersion: version,
        credentials: credentialColumns(7, 6, 'gAAAAA-new'),
        now: 5,
      }),
      true,
    )
    assert.deepEqual(
      await h.raw(
        'SELECT status, renewal_failures, renew_lease_until, encrypted_credentials, credentials_format, token_expires_at, token_issued_at, credentials_expire_at, credentials_version FROM social_accounts_with_jobs',
      ),
      [
        {
          status: 'active',
          renewal_failures: 0,
          renew_lease_until: null,
          encrypted_credentials: 'gAAAAA-new',
          credentials_format: 2,
          token_expires_at: 7,
          token_issued_at: 6,
          credentials_expire_at: 7,
          credentials_version: version + 1,
        },
      ],
    )
    assert.equal(
      await h.store.completeRenewal({
        accountId: id,
        expectedVersion: version,
        credentials: credentialColumns(9, 8, 'gAAAAA-replayed'),
        now: 6,
      }),
      false,
      'the version moved: the same renewal applies once',
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

  test('job state lives in account_jobs: claims and heartbeats write only the job row; its rows go with the account', async () => {
    const h = harness()
    const alice = await user()
    const id = await account(alice)
    const keep = await account(alice, '2')
    const link = await h.store.createPublicAccount({
      user_id: alice,
      platform: 'x',
      username: 'nina',
      profile_url: 'https://x.com/nina',
      now: NOW,
      max_per_user: 5,
    })
    const jobs = (accountId: string) =>
      h.raw(
        'SELECT kind, lease_until, lease_owner, failures, next_run_at, run_id, cursor FROM account_jobs WHERE account_id = ? ORDER BY kind',
        [accountId],
      )
    const job = (kind: 'renewal' | 'sync', lease_until: number | null = null) => ({
      kind,
      lease_until,
      lease_owner: null,
      failures: 0,
      next_run_at: null,
      run_id: null,
      cursor: null,
    })
    assert.deepEqual(await jobs(id), [job('renewal'), job('sync')], 'made with the account')
    assert.deepEqual(await jobs(link.id), [], 'a profile link has no jobs')
    const accountRow = async () =>
      (await h.raw('SELECT * FROM user_social_accounts WHERE id = ?', [id]))[0]
    const before = await accountRow()
    assert.ok(before !== undefined)

    const [claimed] = await h.store.claimDueSyncs({
      now: NOW + 1,
      leaseUntil: NOW + 300_000,
      limit: 1,
      owner: 'i-a:sync',
    })
    assert.equal(claimed?.id, id)
    const sync = { accountId: id, owner: 'i-a:sync' }
    assert.equal(await h.store.renewAccountLease('sync', sync, NOW + 600_000), true)
    assert.equal(
      await h.store.acquireAccountLease('renewal', id, NOW + 2, NOW + 300_000, 'i-a:renew'),
      true,
    )
    const renewal = { accountId: id, owner: 'i-a:renew' }
    assert.equal(await h.store.renewAccountLease('renewal', renewal, NOW + 900_000), true)
    assert.deepEqual(
      await jobs(id),
      [
        { ...job('renewal', NOW + 900_000), lease_owner: renewal.owner },
        { ...job('sync', NOW + 600_000), lease_owner: sync.owner },
      ],
      'the heartbeats extended the leases on the job rows',
    )
    assert.deepEqual(
      await accountRow(),
      before,
      'a claim, a lease and a heartbeat leave the account row untouched (updated_at too)',
    )

    assert.equal(
      await h.store.recordSyncProgress(sync, {
        leaseUntil: NOW + 900_000,
        sync_run_id: 'run-1',
        sync_cursor: 'after-page-1',
        now: NOW + 5,
      }),
      true,
    )
    assert.deepEqual(await jobs(id), [
      { ...job('renewal', NOW + 900_000), lease_owner: renewal.owner },
      {
        ...job('sync', NOW + 900_000),
        lease_owner: sync.owner,
        run_id: 'run-1',
        cursor: 'after-page-1',
      },
    ])
    assert.deepEqual(
      await accountRow(),
      { ...before, updated_at: NOW + 5 },
      'progress writes the job row; on the account only its updated_at',
    )
    const record = await h.store.getAccount(alice, id)
    assert.deepEqual(
      [
        record?.sync_lease_until,
        record?.sync_lease_owner,
        record?.sync_run_id,
        record?.sync_cursor,
      ],
      [NOW + 900_000, sync.owner, 'run-1', 'after-page-1'],
      'the record reads it back under its names',
    )

    assert.equal(await h.store.deleteAccount(alice, id), true)
    assert.deepEqual(await jobs(id), [], "the account's job rows go with it")
    assert.deepEqual(await jobs(keep), [job('renewal'), job('sync')], 'the others stay')
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
      claimed.map((a) => [a.id, a.encrypted_credentials]),
      [[id, TOKEN]],
    )
    const version = claimed[0]?.credentials_version ?? -1
    // Meta's deauthorize lands while the refresh is in flight (review D4), and the refresh then
    // fails with code 190: the revocation stands (purge keeps it only for the retention period)
    await h.store.revokeByPlatformIdentity(
      'instagram',
      '17841400000000001',
      'Revoked on Instagram',
      now + 1,
    )
    const onRevoked = await h.store.failRenewal({
      accountId: id,
      expectedVersion: version,
      status: 'reauth_required',
      message: 'Reconnect',
      retryAt: now + 900_000,
      now: now + 2,
    })
    const row = (accountId: string) =>
      h.raw(
        'SELECT status, status_message, renewal_failures, renew_lease_until, encrypted_credentials, updated_at FROM social_accounts_with_jobs WHERE id = ?',
        [accountId],
      )
    assert.deepEqual(await row(id), [
      {
        status: 'revoked',
        status_message: 'Revoked on Instagram',
        renewal_failures: 0,
        renew_lease_until: now + 120_000,
        encrypted_credentials: null,
        updated_at: now + 1,
      },
    ])
    assert.equal(onRevoked, false, 'nothing recorded')
    assert.ok(
      Number(
        (
          await h.raw('SELECT credentials_version AS v FROM user_social_accounts WHERE id = ?', [
            id,
          ])
        )[0]?.v,
      ) > version,
      'a revocation moves the version',
    )

    // reconnected meanwhile (a new token, fresh state): the old renewal's failure is stale
    const other = await account(alice, '2')
    const before = (await h.store.getAccount(alice, other))?.credentials_version ?? -1
    const reconnected = await h.store.upsertOAuthAccount({
      ...oauthInput(alice, '2'),
      credentials: credentialColumns(NOW + 60 * DAY, NOW, 'gAAAAA-reconnected'),
      now: now + 3,
    })
    assert.notEqual(
      reconnected.account.credentials_version,
      before,
      'a reconnection moves the version',
    )
    const fail = (expectedVersion: number) =>
      h.store.failRenewal({
        accountId: other,
        expectedVersion,
        status: 'degraded',
        message: 'Token renewal will be retried',
        retryAt: now + 900_000,
        now: now + 4,
      })
    assert.equal(await fail(before), false)
    assert.deepEqual(await row(other), [
      {
        status: 'active',
        status_message: null,
        renewal_failures: 0,
        renew_lease_until: null,
        encrypted_credentials: 'gAAAAA-reconnected',
        updated_at: now + 3,
      },
    ])
    assert.equal(
      await fail(reconnected.account.credentials_version),
      true,
      'the version it renewed',
    )
    assert.deepEqual(await row(other), [
      {
        status: 'degraded',
        status_message: 'Token renewal will be retried',
        renewal_failures: 1,
        renew_lease_until: now + 900_000,
        encrypted_credentials: 'gAAAAA-reconnected',
        updated_at: now + 4,
      },
    ])
  })
}
