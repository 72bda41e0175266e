/**
 * Conformance: the per-user archive quota's store (`ArchiveQuotaStore`): stored rows listed
 * newest media first with their bytes; eviction only of `stored`, unleased rows, clearing what
 * they hold; the users with evictions; re-admission newest first, back to `pending` (a video's
 * own copy wanted again). Checked with raw SQL.
 */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { NOW, media } from './harness.ts'

const sha = (c: string) => c.repeat(64)
const REASON = 'over quota'

export function archiveQuotaCases({ test, harness, user, account }: Conformance): void {
  /** Alice's four items archived (bytes 100, 200, 300, 400 from oldest to newest). */
  async function archived() {
    const h = harness()
    const alice = await user()
    const accountId = await account(alice)
    await h.store.upsertMediaPage(
      { id: accountId, user_id: alice },
      's1',
      [
        media('p1', NOW - 4000),
        media('p2', NOW - 3000),
        media('p3', NOW - 2000, {
          media_type: 'VIDEO',
          media_url: 'https://cdn.example/v.mp4',
          thumbnail_url: 'https://cdn.example/v.jpg',
        }),
        media('p4', NOW - 1000),
      ],
      NOW,
    )
    assert.equal(await h.store.enqueueArchiving(NOW, 100), 4)
    const claimed = await h.store.claimArchiving('instagram', {
      now: NOW,
      leaseUntil: NOW + 60_000,
      limit: 10,
      owner: 'w',
    })
    const order = ['p1', 'p2', 'p3', 'p4']
    const rows = await h.raw('SELECT id, platform_media_id FROM media')
    const id = Object.fromEntries(rows.map((r) => [String(r.platform_media_id), String(r.id)]))
    for (const record of claimed) {
      const n = order.findIndex((p) => id[p] === record.media_id) + 1
      const done = await h.store.completeArchiving({
        mediaId: record.media_id,
        owner: 'w',
        result: {
          sha256: sha(String(n)),
          width: 10,
          height: 10,
          thumbhash: 'AAAA',
          color: '#000000',
          variants: [{ width: 10, height: 10, format: 'webp', bytes: 1 }],
          video_state: n === 3 ? 'stored' : 'none',
          video_sha256: n === 3 ? sha('f') : null,
          video_reason: null,
          bytes: n * 100,
        },
        blobs: [
          { sha256: sha(String(n)), kind: 'picture', bytes: n * 100 },
          ...(n === 3 ? [{ sha256: sha('f'), kind: 'video' as const, bytes: 50 }] : []),
        ],
        now: NOW,
      })
      assert.equal(done, 'stored')
    }
    return { h, alice, id, accountId }
  }

  test('archive quota: usage newest first, eviction of stored rows only, re-admission newest first', async () => {
    const { h, alice, id } = await archived()
    const usage = await h.store.archiveUsage(alice)
    assert.deepEqual(usage, [
      { media_id: id.p4, bytes: 400 },
      { media_id: id.p3, bytes: 300 },
      { media_id: id.p2, bytes: 200 },
      { media_id: id.p1, bytes: 100 },
    ])
    // somebody else has nothing
    assert.deepEqual(await h.store.archiveUsage(await user('bob@example.com')), [])

    // evict the two oldest; a second eviction of the same rows changes nothing
    assert.equal(await h.store.evictArchives([id.p1!, id.p3!], REASON, NOW + 1), 2)
    assert.equal(await h.store.evictArchives([id.p1!, id.p3!], REASON, NOW + 2), 0)
    const evicted = (
      await h.raw(
        'SELECT state, reason, sha256, variants, video_state, video_sha256, bytes FROM media_archive WHERE media_id = ?',
        [id.p3],
      )
    )[0]
    assert.deepEqual(evicted && { ...evicted, bytes: Number(evicted.bytes) }, {
      state: 'failed',
      reason: REASON,
      sha256: null,
      variants: '[]',
      video_state: 'skipped',
      video_sha256: null,
      bytes: 0,
    })
    assert.equal(await h.store.archivedBytes(alice), 600)
    assert.deepEqual(
      (await h.store.archiveUsage(alice)).map((u) => u.media_id),
      [id.p4, id.p2],
    )
    // what they referenced is garbage now (after its grace)
    const garbage = await h.store.claimGarbage(NOW + 10, 100, NOW + 10)
    assert.deepEqual(garbage.map((b) => b.sha256).sort(), [sha('1'), sha('3'), sha('f')].sort())
    assert.deepEqual(await h.store.usersWithEvictions(REASON), [alice])
    assert.deepEqual(await h.store.usersWithEvictions('another reason'), [])

    // re-admission: the newest first, one at a time here
    assert.equal(await h.store.readmitArchives(alice, REASON, 1, NOW + 20), 1)
    const back = (
      await h.raw(
        'SELECT state, reason, attempts, next_attempt_at, video_state FROM media_archive WHERE media_id = ?',
        [id.p3],
      )
    )[0]
    assert.deepEqual(
      back && {
        ...back,
        attempts: Number(back.attempts),
        next_attempt_at: Number(back.next_attempt_at),
      },
      {
        state: 'pending',
        reason: null,
        attempts: 0,
        next_attempt_at: NOW + 20,
        video_state: 'pending',
      },
    )
    assert.equal(await h.store.readmitArchives(alice, REASON, 10, NOW + 21), 1)
    assert.equal(await h.store.readmitArchives(alice, REASON, 10, NOW + 22), 0)
    assert.deepEqual(await h.store.usersWithEvictions(REASON), [])
  })

  test('archive quota: a row being archived (leased) or pending is never evicted', async () => {
    const { h, alice, id, accountId } = await archived()
    // p2 changes its picture (a later sync): pending again, then leased by an archiver
    await h.store.upsertMediaPage(
      { id: accountId, user_id: alice },
      's2',
      [media('p2', NOW - 3000, { media_url: 'https://cdn.example/new.jpg' })],
      NOW + 5,
    )
    assert.equal(await h.store.enqueueArchiving(NOW + 5, 100), 1)
    assert.equal(await h.store.evictArchives([id.p2!], REASON, NOW + 6), 0)
    const claimed = await h.store.claimArchiving('instagram', {
      now: NOW + 6,
      leaseUntil: NOW + 60_000,
      limit: 10,
      owner: 'w2',
    })
    assert.deepEqual(
      claimed.map((r) => r.media_id),
      [id.p2],
    )
    assert.equal(await h.store.evictArchives([id.p2!], REASON, NOW + 7), 0)
  })
}
