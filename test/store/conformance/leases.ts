/**
 * Conformance: lease owners (migration 0009). Every claim writes its owner, every write under a
 * lease applies only while that owner holds it, a release clears only one's own lease, and
 * `releaseOwned` frees exactly one instance's leases. The parallel claims only bite on PostgreSQL
 * (`FOR UPDATE SKIP LOCKED`); SQLite serialises them.
 */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { DAY, NOW, TOKEN, credentialColumns, media } from './harness.ts'

const LEASE = 300_000

export function leaseCases({ test, harness, user, account }: Conformance): void {
  test('sync lease: every write under it applies only for its owner; a taken-over run deletes nothing', async () => {
    const h = harness()
    const alice = await user()
    const id = await account(alice)
    const owner = { id, user_id: alice }
    await h.store.upsertMediaPage(owner, 'old', [media('1', NOW), media('2', NOW)], NOW)
    const [claimed] = await h.store.claimDueSyncs({
      now: NOW,
      leaseUntil: NOW + LEASE,
      limit: 1,
      owner: 'i-a:run-a',
    })
    assert.equal(claimed?.sync_lease_owner, 'i-a:run-a', 'the claim writes its owner')
    const a = { accountId: id, owner: 'i-a:run-a' }
    const b = { accountId: id, owner: 'i-b:run-b' }
    assert.equal(await h.store.renewAccountLease('sync', b, NOW + 2 * LEASE), false)
    assert.equal(await h.store.renewAccountLease('sync', a, NOW + 2 * LEASE), true, 'heartbeat')
    assert.equal(
      await h.store.acquireSyncLease(id, NOW + LEASE + 1, NOW + 3 * LEASE, 'i-b:run-b'),
      false,
      'the heartbeat kept it',
    )
    // A stalls past its lease; B takes the account over and sees only post 1
    assert.equal(
      await h.store.acquireSyncLease(id, NOW + 2 * LEASE, NOW + 3 * LEASE, 'i-b:run-b'),
      true,
    )
    assert.deepEqual(
      await h.store.upsertMediaPage(owner, 'run-b', [media('1', NOW)], NOW + 1, b.owner),
      { added: 0, updated: 0, refreshed: 0, known: 1 },
    )
    // A wakes up: nothing it writes applies, above all no deletion
    assert.equal(
      await h.store.upsertMediaPage(owner, 'run-a', [media('3', NOW)], NOW + 2, a.owner),
      null,
    )
    assert.equal(
      await h.store.recordSyncProgress(a, {
        leaseUntil: NOW + 9 * LEASE,
        sync_cursor: 'A',
        now: NOW + 2,
      }),
      false,
    )
    assert.equal(await h.store.removeMediaNotSeen(id, 'run-a', a.owner), null)
    assert.equal(await h.store.renewAccountLease('sync', a, NOW + 9 * LEASE), false)
    assert.equal(
      await h.store.releaseSyncLease(a, { status: 'error', sync_failures: 9, now: NOW + 2 }),
      false,
    )
    const row = async () =>
      (
        await h.raw(
          'SELECT sync_lease_until, sync_lease_owner, sync_cursor, sync_failures, status FROM social_accounts_with_jobs WHERE id = ?',
          [id],
        )
      )[0]
    assert.deepEqual(await row(), {
      sync_lease_until: NOW + 3 * LEASE,
      sync_lease_owner: b.owner,
      sync_cursor: null,
      sync_failures: 0,
      status: 'active',
    })
    assert.deepEqual(
      (await h.raw('SELECT platform_media_id FROM media ORDER BY platform_media_id')).map(
        (r) => r.platform_media_id,
      ),
      ['1', '2'],
      "A's page was not written and nothing was deleted",
    )
    // B, the holder, writes, deletes what it did not see and releases
    assert.equal(
      await h.store.recordSyncProgress(b, {
        leaseUntil: NOW + 4 * LEASE,
        sync_run_id: 'run-b',
        sync_cursor: 'B',
        now: NOW + 3,
      }),
      true,
    )
    assert.equal(await h.store.removeMediaNotSeen(id, 'run-b', b.owner), 1)
    assert.equal(
      await h.store.releaseSyncLease(b, {
        sync_failures: 0,
        sync_run_id: null,
        sync_cursor: null,
        now: NOW + 4,
      }),
      true,
    )
    assert.deepEqual(await row(), {
      sync_lease_until: null,
      sync_lease_owner: null,
      sync_cursor: null,
      sync_failures: 0,
      status: 'active',
    })
    assert.equal(await h.store.releaseSyncLease(b, { now: NOW + 5 }), false, 'released once')
  })

  test('renewal lease: a failure applies only for its owner, a completion for the version it read; the back-off has none', async () => {
    const h = harness()
    const alice = await user()
    const id = await account(alice) // issued NOW, expires NOW + 60 days
    const now = NOW + 40 * DAY
    const claim = {
      now,
      dueBefore: now + 30 * DAY,
      issuedBefore: now - DAY,
      leaseUntil: now + 120_000,
      limit: 1,
      owner: 'i-a:r1',
    }
    const [claimed] = await h.store.claimDueRenewals(claim)
    assert.equal(claimed?.renew_lease_owner, 'i-a:r1')
    assert.ok(claimed !== undefined)
    const version = claimed.credentials_version
    const mine = { accountId: id, owner: 'i-a:r1' }
    const theirs = { accountId: id, owner: 'i-b:r2' }
    assert.equal(await h.store.renewAccountLease('renewal', theirs, now + 999_999), false)
    assert.equal(await h.store.renewAccountLease('sync', mine, now + 999_999), false, 'per kind')
    assert.equal(await h.store.renewAccountLease('renewal', mine, now + 240_000), true)
    const fail = {
      accountId: id,
      expectedVersion: version,
      status: 'degraded' as const,
      message: 'later',
      retryAt: now + 900_000,
      now,
    }
    assert.equal(await h.store.failRenewal({ ...fail, owner: theirs.owner }), false)
    const complete = {
      accountId: id,
      expectedVersion: version,
      credentials: credentialColumns(now + 60 * DAY, now, 'gAAAAA-new'),
      now,
    }
    assert.equal(await h.store.failRenewal({ ...fail, owner: mine.owner }), true)
    const [row] = await h.raw(
      'SELECT renew_lease_until, renew_lease_owner, encrypted_credentials FROM social_accounts_with_jobs',
    )
    assert.deepEqual(row, {
      renew_lease_until: now + 900_000,
      renew_lease_owner: null,
      encrypted_credentials: TOKEN,
    })
    assert.equal((await h.store.releaseOwned('i-a')).renewals, 0, 'the back-off stays')
    const again = await h.store.claimDueRenewals({
      ...claim,
      now: now + 900_000,
      leaseUntil: now + 1_020_000,
      owner: 'i-a:r3',
    })
    assert.equal(again.length, 1)
    assert.equal(await h.store.completeRenewal({ ...complete, owner: 'i-a:r3' }), true)
    const [done] = await h.raw(
      'SELECT renew_lease_until, renew_lease_owner, encrypted_credentials, credentials_version FROM social_accounts_with_jobs',
    )
    assert.deepEqual(done, {
      renew_lease_until: null,
      renew_lease_owner: null,
      encrypted_credentials: 'gAAAAA-new',
      credentials_version: version + 1,
    })
  })

  test('a renewal that lost its lease still stores its tokens when nothing newer was; another owner’s live lease stays theirs', async () => {
    const h = harness()
    const alice = await user()
    const id = await account(alice) // issued NOW, expires NOW + 60 days
    const now = NOW + 40 * DAY
    const claim = {
      now,
      dueBefore: now + 30 * DAY,
      issuedBefore: now - DAY,
      leaseUntil: now + 120_000,
      limit: 1,
      owner: 'i-a:r1',
    }
    const [claimed] = await h.store.claimDueRenewals(claim)
    assert.ok(claimed !== undefined)
    const version = claimed.credentials_version
    // r1 stalls past its lease; r2 takes the renewal over, retries with the spent refresh token,
    // is refused (invalid_grant) and records reauth_required
    const later = now + 200_000
    assert.equal(
      await h.store.acquireAccountLease('renewal', id, later, later + 120_000, 'i-b:r2'),
      true,
    )
    assert.equal(
      await h.store.failRenewal({
        accountId: id,
        owner: 'i-b:r2',
        expectedVersion: version,
        status: 'reauth_required',
        message: 'Reconnect',
        retryAt: later + 900_000,
        now: later,
      }),
      true,
    )
    // r1's answer lands: its rotated tokens are the only ones that work, so they are kept and
    // the account is healthy again
    const complete = {
      accountId: id,
      owner: 'i-a:r1',
      expectedVersion: version,
      credentials: credentialColumns(now + 60 * DAY, later, 'gAAAAA-rotated'),
      now: later + 1,
    }
    assert.equal(await h.store.completeRenewal(complete), true)
    const [row] = await h.raw(
      'SELECT status, status_message, encrypted_credentials, credentials_version, renew_lease_until, renew_lease_owner FROM social_accounts_with_jobs',
    )
    assert.deepEqual(row, {
      status: 'active',
      status_message: null,
      encrypted_credentials: 'gAAAAA-rotated',
      credentials_version: version + 1,
      renew_lease_until: null,
      renew_lease_owner: null,
    })
    // once stored, a second completion at the old version changes nothing
    assert.equal(await h.store.completeRenewal(complete), false, 'stale version')
    // another owner's live lease is not freed by a completion that is not theirs
    const v2 = version + 1
    const at = later + 10_000
    assert.equal(await h.store.acquireAccountLease('renewal', id, at, at + 120_000, 'i-c:r3'), true)
    assert.equal(
      await h.store.completeRenewal({
        ...complete,
        owner: 'i-a:r4',
        expectedVersion: v2,
        credentials: credentialColumns(now + 61 * DAY, at, 'gAAAAA-again'),
        now: at,
      }),
      true,
    )
    const [kept] = await h.raw(
      'SELECT renew_lease_owner, credentials_version FROM social_accounts_with_jobs',
    )
    assert.deepEqual(kept, { renew_lease_owner: 'i-c:r3', credentials_version: v2 + 1 })
    // a sync's reauth_required (no renewal failure since the last renewal) is not healed
    await h.store.updateAccount(id, { status: 'reauth_required', status_message: 'scope', now: at })
    assert.equal(
      await h.store.completeRenewal({
        ...complete,
        expectedVersion: v2 + 1,
        credentials: credentialColumns(now + 62 * DAY, at, 'gAAAAA-third'),
        now: at,
      }),
      true,
    )
    const [last] = await h.raw('SELECT status, status_message FROM user_social_accounts')
    assert.deepEqual(last, { status: 'reauth_required', status_message: 'scope' })
    // a revoked account takes no tokens
    await h.store.updateAccount(id, { status: 'revoked', now: at })
    assert.equal(
      await h.store.completeRenewal({ ...complete, expectedVersion: v2 + 2, now: at }),
      false,
    )
  })

  test('account lease: acquired only when free (a back-off counts as held), released only by its owner', async () => {
    const h = harness()
    const alice = await user()
    const id = await account(alice)
    const other = await account(alice, '2')
    const mine = { accountId: id, owner: 'i-a:refresh-1' }
    const theirs = { accountId: id, owner: 'i-b:refresh-2' }
    const row = async (accountId = id) =>
      (
        await h.raw(
          'SELECT renew_lease_until, renew_lease_owner, sync_lease_until, sync_lease_owner FROM social_accounts_with_jobs WHERE id = ?',
          [accountId],
        )
      )[0]
    assert.equal(
      await h.store.acquireAccountLease('renewal', id, NOW, NOW + LEASE, mine.owner),
      true,
    )
    assert.deepEqual(await row(), {
      renew_lease_until: NOW + LEASE,
      renew_lease_owner: mine.owner,
      sync_lease_until: null,
      sync_lease_owner: null,
    })
    assert.equal(
      await h.store.acquireAccountLease('renewal', id, NOW + 1, NOW + 2 * LEASE, theirs.owner),
      false,
      'held',
    )
    assert.equal(
      await h.store.acquireAccountLease('renewal', id, NOW + 1, NOW + 2 * LEASE, mine.owner),
      false,
      'held, even by the same owner: one acquisition per lease',
    )
    assert.deepEqual(
      await h.store
        .claimDueRenewals({
          now: NOW + 1,
          dueBefore: NOW + 70 * DAY,
          issuedBefore: NOW + 1,
          leaseUntil: NOW + LEASE,
          limit: 5,
          owner: 'i-c:claim',
        })
        .then((accounts) => accounts.map((a) => a.id)),
      [other],
      'a renewal claim passes over the held one',
    )
    assert.equal(
      await h.store.acquireAccountLease('sync', id, NOW + 1, NOW + LEASE, theirs.owner),
      true,
      'per kind',
    )
    assert.equal(await h.store.releaseAccountLease('renewal', theirs), false, 'not theirs')
    assert.equal(
      await h.store.releaseAccountLease('sync', mine),
      false,
      'the sync lease is not mine',
    )
    assert.deepEqual(await row(), {
      renew_lease_until: NOW + LEASE,
      renew_lease_owner: mine.owner,
      sync_lease_until: NOW + LEASE,
      sync_lease_owner: theirs.owner,
    })
    assert.equal(await h.store.releaseAccountLease('renewal', mine), true)
    assert.equal(await h.store.releaseAccountLease('renewal', mine), false, 'released once')
    assert.deepEqual(await row(), {
      renew_lease_until: null,
      renew_lease_owner: null,
      sync_lease_until: NOW + LEASE,
      sync_lease_owner: theirs.owner,
    })
    assert.equal(
      await h.store.acquireAccountLease('renewal', id, NOW + 2, NOW + LEASE, theirs.owner),
      true,
      'free again',
    )
    assert.equal(
      await h.store.acquireAccountLease('renewal', id, NOW + LEASE, NOW + 2 * LEASE, mine.owner),
      true,
      'an expired lease is taken over',
    )
    assert.equal(await h.store.releaseAccountLease('renewal', theirs), false, 'taken over')
    assert.equal((await row())?.renew_lease_owner, mine.owner)

    // a failed renewal's back-off (lease_until ahead, no owner) counts as held
    const version = (await h.store.getAccount(alice, other))?.credentials_version ?? -1
    assert.equal(
      await h.store.failRenewal({
        accountId: other,
        expectedVersion: version,
        status: 'degraded',
        message: 'later',
        retryAt: NOW + 900_000,
        now: NOW + 1,
      }),
      true,
    )
    assert.deepEqual(await row(other), {
      renew_lease_until: NOW + 900_000,
      renew_lease_owner: null,
      sync_lease_until: null,
      sync_lease_owner: null,
    })
    assert.equal(
      await h.store.acquireAccountLease('renewal', other, NOW + 2, NOW + LEASE, mine.owner),
      false,
      'backing off',
    )
    assert.equal(
      await h.store.releaseAccountLease('renewal', { accountId: other, owner: mine.owner }),
      false,
      'nobody owns a back-off: it cannot be released',
    )
    assert.equal((await row(other))?.renew_lease_until, NOW + 900_000)
    assert.equal(
      await h.store.acquireAccountLease(
        'renewal',
        other,
        NOW + 900_000,
        NOW + 900_000 + LEASE,
        mine.owner,
      ),
      true,
      'once the back-off is over',
    )
  })

  test('webhook lease: a late finish after a takeover does not undo "delivered"', async () => {
    const h = harness()
    await h.store.enqueueWebhook({ id: 'evt_1', event_type: 'x', payload: '{}', now: NOW })
    const claim = { now: NOW, leaseUntil: NOW + 20_000, limit: 1 }
    assert.equal(
      (await h.store.claimDueWebhooks({ ...claim, owner: 'i-a:1' }))[0]?.lease_owner,
      'i-a:1',
    )
    // A's receiver is slow; its lease expires and B claims and delivers
    const [taken] = await h.store.claimDueWebhooks({ ...claim, now: NOW + 20_000, owner: 'i-b:2' })
    assert.equal(taken?.id, 'evt_1')
    const finish = { id: 'evt_1', attempts: 1, lastError: null, now: NOW + 20_001 }
    assert.equal(
      await h.store.finishWebhookAttempt({
        ...finish,
        owner: 'i-b:2',
        status: 'delivered',
        nextAttemptAt: NOW + 20_001,
      }),
      true,
    )
    assert.equal(
      await h.store.finishWebhookAttempt({
        ...finish,
        owner: 'i-a:1',
        status: 'pending',
        lastError: 'receiver timed out',
        nextAttemptAt: NOW + 80_000,
      }),
      false,
    )
    assert.deepEqual(
      await h.raw(
        'SELECT status, attempts, lease_until, lease_owner, last_error FROM webhook_deliveries',
      ),
      [
        {
          status: 'delivered',
          attempts: 1,
          lease_until: null,
          lease_owner: null,
          last_error: null,
        },
      ],
    )
  })

  test('releaseOwned frees exactly the leases of one instance', async () => {
    const h = harness()
    const alice = await user()
    const syncing = await account(alice, '1')
    const other = await account(alice, '2')
    assert.ok(await h.store.acquireSyncLease(syncing, NOW, NOW + LEASE, 'inst-1:a'))
    // an instance whose id starts with the same characters is another instance
    assert.ok(await h.store.acquireSyncLease(other, NOW, NOW + LEASE, 'inst-10:b'))
    const renewals = await h.store.claimDueRenewals({
      now: NOW + 40 * DAY,
      dueBefore: NOW + 70 * DAY,
      issuedBefore: NOW + 39 * DAY,
      leaseUntil: NOW + 40 * DAY + LEASE,
      limit: 3,
      owner: 'inst-1:c',
    })
    assert.equal(renewals.length, 2)
    await h.store.enqueueWebhook({ id: 'evt_1', event_type: 'x', payload: '{}', now: NOW })
    await h.store.enqueueWebhook({ id: 'evt_2', event_type: 'x', payload: '{}', now: NOW + 1 })
    await h.store.claimDueWebhooks({
      now: NOW + 1,
      leaseUntil: NOW + 20_000,
      limit: 1,
      owner: 'inst-1:d',
    })
    await h.store.claimDueWebhooks({
      now: NOW + 1,
      leaseUntil: NOW + 20_000,
      limit: 1,
      owner: 'inst-2:e',
    })
    assert.deepEqual(await h.store.releaseOwned('inst-1'), { syncs: 1, renewals: 2, webhooks: 1 })
    assert.deepEqual(
      await h.raw(
        'SELECT id, sync_lease_until, sync_lease_owner, renew_lease_until, renew_lease_owner FROM social_accounts_with_jobs ORDER BY platform_user_id',
      ),
      [
        {
          id: syncing,
          sync_lease_until: null,
          sync_lease_owner: null,
          renew_lease_until: null,
          renew_lease_owner: null,
        },
        {
          id: other,
          sync_lease_until: NOW + LEASE,
          sync_lease_owner: 'inst-10:b',
          renew_lease_until: null,
          renew_lease_owner: null,
        },
      ],
    )
    assert.deepEqual(
      await h.raw('SELECT id, lease_until, lease_owner FROM webhook_deliveries ORDER BY id'),
      [
        { id: 'evt_1', lease_until: null, lease_owner: null },
        { id: 'evt_2', lease_until: NOW + 20_000, lease_owner: 'inst-2:e' },
      ],
    )
    assert.equal(
      await h.store.acquireSyncLease(syncing, NOW + 1, NOW + LEASE, 'inst-3:f'),
      true,
      'free at once, without waiting for the lease to expire',
    )
    await assert.rejects(h.store.releaseOwned('inst-%'), /instance id/)
  })

  test('parallel claims each get work while work is due (PostgreSQL: SKIP LOCKED)', async () => {
    const h = harness()
    const alice = await user()
    await account(alice, '1')
    await account(alice, '2')
    await h.store.enqueueWebhook({ id: 'evt_1', event_type: 'x', payload: '{}', now: NOW })
    await h.store.enqueueWebhook({ id: 'evt_2', event_type: 'x', payload: '{}', now: NOW })
    for (let round = 0; round < 10; round++) {
      const now = NOW + round * 2 * LEASE
      const sync = { now, leaseUntil: now + LEASE, limit: 1 }
      const syncs = await Promise.all([
        h.store.claimDueSyncs({ ...sync, owner: 'i-a:s' }),
        h.store.claimDueSyncs({ ...sync, owner: 'i-b:s' }),
      ])
      assert.deepEqual(
        syncs.map((c) => c.length),
        [1, 1],
        `round ${round}: both sync claims got one`,
      )
      assert.notEqual(syncs[0]?.[0]?.id, syncs[1]?.[0]?.id)
      const renewal = {
        now: NOW + 40 * DAY + round * 2 * LEASE,
        dueBefore: NOW + 70 * DAY,
        issuedBefore: NOW + 39 * DAY,
        leaseUntil: NOW + 40 * DAY + round * 2 * LEASE + LEASE,
        limit: 1,
      }
      const renewals = await Promise.all([
        h.store.claimDueRenewals({ ...renewal, owner: 'i-a:r' }),
        h.store.claimDueRenewals({ ...renewal, owner: 'i-b:r' }),
      ])
      assert.deepEqual(
        renewals.map((c) => c.length),
        [1, 1],
        `round ${round}: both renewal claims got one`,
      )
      const webhook = { now, leaseUntil: now + LEASE, limit: 1 }
      const webhooks = await Promise.all([
        h.store.claimDueWebhooks({ ...webhook, owner: 'i-a:w' }),
        h.store.claimDueWebhooks({ ...webhook, owner: 'i-b:w' }),
      ])
      assert.deepEqual(
        webhooks.map((c) => c.length),
        [1, 1],
        `round ${round}: both webhook claims got one`,
      )
    }
  })
}
