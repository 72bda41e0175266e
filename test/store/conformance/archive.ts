/**
 * Conformance: the media archive (`ArchiveStore`, migration 0014). Archive rows made for media
 * (children and videos included) and reset when their picture changes, leased per platform,
 * completed with the blobs they reference or failed, deleted with their media; blobs found
 * unreferenced by a query after a grace time and deleted through `deleting`; the gallery version
 * moving with the archive state. Writes are checked with raw SQL.
 */
import assert from 'node:assert/strict'
import type { Conformance, StoreHarness } from './harness.ts'
import { NOW, media, oauthInput } from './harness.ts'
import type { ArchiveResult, MediaInput } from '../../../src/store/types.ts'

const MINUTE = 60_000
const LEASE = 5 * MINUTE
const HOUR = 60 * MINUTE

const sha = (c: string) => c.repeat(64)

function result(hash: string, extra: Partial<ArchiveResult> = {}): ArchiveResult {
  return {
    sha256: hash,
    width: 1080,
    height: 1350,
    thumbhash: 'HBkSHYSIeHiPiHh8eJd4eTN0EEQG',
    color: '#a0b0c0',
    variants: [
      { width: 320, height: 400, format: 'avif', bytes: 9_000 },
      { width: 1080, height: 1350, format: 'webp', bytes: 80_000 },
    ],
    video_state: 'none',
    video_sha256: null,
    video_reason: null,
    bytes: 200_000,
    ...extra,
  }
}

/** Media ids by platform media id. */
async function ids(h: StoreHarness): Promise<Record<string, string>> {
  const rows = await h.raw('SELECT id, platform_media_id FROM media')
  return Object.fromEntries(rows.map((r) => [String(r.platform_media_id), String(r.id)]))
}

async function archiveRow(h: StoreHarness, mediaId: string) {
  return (await h.raw('SELECT * FROM media_archive WHERE media_id = ?', [mediaId]))[0]
}

async function blobRows(h: StoreHarness) {
  const rows = await h.raw(
    'SELECT sha256, kind, bytes, state, updated_at FROM archive_blobs ORDER BY sha256',
  )
  return rows.map((r) => ({
    sha256: String(r.sha256),
    kind: r.kind,
    bytes: Number(r.bytes),
    state: r.state,
    updated_at: Number(r.updated_at),
  }))
}

export function archiveCases({ test, harness, user, account }: Conformance): void {
  /** Alice's Instagram account with `items` synced at NOW; returns what the cases need. */
  async function synced(items: MediaInput[]) {
    const h = harness()
    const alice = await user()
    const accountId = await account(alice)
    const owner = { id: accountId, user_id: alice }
    await h.store.upsertMediaPage(owner, 's1', items, NOW)
    return { h, alice, accountId, owner }
  }

  /** Enqueues, claims everything due on Instagram for `who`, and returns the claimed ids. */
  async function claimAll(h: StoreHarness, who: string, now = NOW) {
    return (
      await h.store.claimArchiving('instagram', {
        now,
        leaseUntil: now + LEASE,
        limit: 100,
        owner: who,
      })
    ).map((r) => r.media_id)
  }

  test('archive enqueue: a pending row per media item, children and videos included, once', async () => {
    const { h, alice, accountId } = await synced([
      media('photo', NOW - 3000, { media_url: 'https://cdn.example/photo.jpg?sig=abc&e=1' }),
      media('album', NOW - 2000, {
        media_type: 'CAROUSEL_ALBUM',
        media_url: 'https://cdn.example/album.jpg?x=1',
        children: [
          media('child-1', NOW - 2000, { media_url: 'https://cdn.example/c1.jpg?y' }),
          media('child-2', NOW - 2000, {
            media_type: 'VIDEO',
            media_url: 'https://cdn.example/c2.mp4?z',
            thumbnail_url: 'https://cdn.example/c2-thumb.jpg?z',
          }),
        ],
      }),
      media('video', NOW - 1000, {
        media_type: 'VIDEO',
        media_url: 'https://cdn.example/v.mp4?q=1',
        thumbnail_url: 'https://cdn.example/v-thumb.jpg?q=1',
      }),
      // a video without a thumbnail: its picture is the video URL
      media('bare-video', NOW, {
        media_type: 'VIDEO',
        media_url: 'https://cdn.example/bare.mp4',
        thumbnail_url: null,
      }),
      // a photo without media_url falls back to its thumbnail
      media('thumb-only', NOW, { media_url: null, thumbnail_url: 'https://cdn.example/t.jpg?a' }),
    ])
    assert.equal(await h.store.enqueueArchiving(NOW + 1, 100), 7)
    const id = await ids(h)
    const rows = await h.raw(
      'SELECT media_id, user_id, account_id, platform, state, source, attempts, next_attempt_at, lease_until, lease_owner, sha256, variants, video_state, bytes, created_at, updated_at FROM media_archive',
    )
    const byId = new Map(rows.map((r) => [r.media_id, r]))
    const expect: [string, string, string][] = [
      ['photo', 'https://cdn.example/photo.jpg', 'none'],
      ['album', 'https://cdn.example/album.jpg', 'none'],
      ['child-1', 'https://cdn.example/c1.jpg', 'none'],
      ['child-2', 'https://cdn.example/c2-thumb.jpg', 'pending'],
      ['video', 'https://cdn.example/v-thumb.jpg', 'pending'],
      ['bare-video', 'https://cdn.example/bare.mp4', 'pending'],
      ['thumb-only', 'https://cdn.example/t.jpg', 'none'],
    ]
    for (const [pid, source, video] of expect) {
      const row = byId.get(id[pid])
      assert.deepEqual(
        row && {
          ...row,
          attempts: Number(row.attempts),
          next_attempt_at: Number(row.next_attempt_at),
          bytes: Number(row.bytes),
          created_at: Number(row.created_at),
          updated_at: Number(row.updated_at),
        },
        {
          media_id: id[pid],
          user_id: alice,
          account_id: accountId,
          platform: 'instagram',
          state: 'pending',
          source,
          attempts: 0,
          next_attempt_at: NOW + 1,
          lease_until: null,
          lease_owner: null,
          sha256: null,
          variants: '[]',
          video_state: video,
          bytes: 0,
          created_at: NOW + 1,
          updated_at: NOW + 1,
        },
        pid,
      )
    }
    assert.equal(await h.store.enqueueArchiving(NOW + 2, 100), 0, 'idempotent')
    assert.equal((await h.raw('SELECT media_id FROM media_archive')).length, 7)
    const [record] = await h.store.getArchives([id.video ?? '', 'no-such-id'])
    assert.equal(record?.video_state, 'pending')
    assert.deepEqual(record?.variants, [])
    assert.equal(record?.next_attempt_at, NOW + 1)
  })

  test('archive enqueue: at most `limit` rows at a time, oldest media first', async () => {
    const { h } = await synced([1, 2, 3, 4, 5].map((n) => media(`p${n}`, NOW - n * 1000)))
    const id = await ids(h)
    const archived = async () =>
      (await h.raw('SELECT media_id FROM media_archive')).map((r) => r.media_id).sort()
    assert.equal(await h.store.enqueueArchiving(NOW, 2), 2)
    assert.deepEqual(await archived(), [id.p5, id.p4].sort(), 'the two oldest')
    assert.equal(await h.store.enqueueArchiving(NOW, 2), 2)
    assert.deepEqual(await archived(), [id.p5, id.p4, id.p3, id.p2].sort())
    assert.equal(await h.store.enqueueArchiving(NOW, 2), 1)
    assert.equal(await h.store.enqueueArchiving(NOW, 2), 0)
    assert.equal(await h.store.enqueueArchiving(NOW, 0), 0)
  })

  test('archive enqueue: a changed picture resets its row to pending; a new query string does not', async () => {
    const items = [1, 2, 3, 4].map((n) => media(`p${n}`, NOW - n * 1000))
    const { h, owner } = await synced(items)
    const id = await ids(h)
    await h.store.enqueueArchiving(NOW, 100)
    const leased = await claimAll(h, 'i:a')
    assert.equal(leased.length, 4)
    const [p1, p2, p3] = [id.p1 ?? '', id.p2 ?? '', id.p3 ?? '']
    await h.store.completeArchiving({
      mediaId: p1,
      owner: 'i:a',
      result: result(sha('a')),
      blobs: [{ sha256: sha('a'), kind: 'picture', bytes: 200_000 }],
      now: NOW + 1,
    })
    await h.store.failArchiving({
      mediaId: p2,
      owner: 'i:a',
      reason: 'gone',
      retryAt: null,
      now: NOW + 1,
    })
    // p3 and p4 stay leased by i:a. New signatures on p1 (the same picture), new pictures for
    // p2 and p3; p4 unchanged
    const changed = items.map((item) => {
      if (item.platform_media_id === 'p4') return item
      return item.platform_media_id === 'p1'
        ? { ...item, media_url: `${item.media_url ?? ''}?sig=new` }
        : { ...item, media_url: `https://cdn2.example/${item.platform_media_id}.jpg?sig=1` }
    })
    await h.store.upsertMediaPage(owner, 's2', changed, NOW + 2)
    assert.equal(await h.store.enqueueArchiving(NOW + 3, 1), 1, 'resets bounded by the limit')
    assert.equal(await h.store.enqueueArchiving(NOW + 3, 100), 1, 'the other one')
    assert.equal(await h.store.enqueueArchiving(NOW + 4, 100), 0, 'nothing changed since')
    const row1 = await archiveRow(h, id.p1 ?? '')
    assert.equal(row1?.state, 'stored', 'a new query string is the same picture')
    assert.equal(row1?.source, 'https://cdn.example/p1.jpg')
    for (const pid of ['p2', 'p3']) {
      const row = await archiveRow(h, id[pid] ?? '')
      assert.deepEqual(
        row && {
          state: row.state,
          source: row.source,
          attempts: Number(row.attempts),
          reason: row.reason,
          lease_until: row.lease_until,
          lease_owner: row.lease_owner,
          next_attempt_at: Number(row.next_attempt_at),
          video_state: row.video_state,
        },
        {
          state: 'pending',
          source: `https://cdn2.example/${pid}.jpg`,
          attempts: 0,
          reason: null,
          lease_until: null,
          lease_owner: null,
          next_attempt_at: NOW + 3,
          video_state: 'none',
        },
        pid,
      )
    }
    // the reset took p3's lease: what i:a finishes for the old picture no longer applies
    assert.equal(
      await h.store.completeArchiving({
        mediaId: p3,
        owner: 'i:a',
        result: result(sha('b')),
        blobs: [{ sha256: sha('b'), kind: 'picture', bytes: 1 }],
        now: NOW + 5,
      }),
      'lost',
    )
    assert.equal(await h.store.getBlob(sha('b')), null)
    // a photo turned into a video (a new picture): its video is archived too
    await h.store.upsertMediaPage(
      owner,
      's3',
      changed.map((item) =>
        item.platform_media_id === 'p4'
          ? {
              ...item,
              media_type: 'VIDEO',
              media_url: 'https://cdn.example/p4.mp4',
              thumbnail_url: 'https://cdn.example/p4-thumb.jpg',
            }
          : item,
      ),
      NOW + 6,
    )
    assert.equal(await h.store.enqueueArchiving(NOW + 7, 100), 1)
    const row4 = await archiveRow(h, id.p4 ?? '')
    assert.equal(row4?.source, 'https://cdn.example/p4-thumb.jpg')
    assert.equal(row4?.video_state, 'pending')
  })

  test('archive claims: due pending rows of one platform, leased once, oldest media first', async () => {
    const h = harness()
    const alice = await user()
    const ig = await account(alice)
    const yt = (
      await h.store.upsertOAuthAccount({
        ...oauthInput(alice, 'UC-youtube-1'),
        platform: 'youtube',
        platform_attributes: {},
      })
    ).account.id
    await h.store.upsertMediaPage(
      { id: ig, user_id: alice },
      's1',
      [1, 2, 3, 4, 5].map((n) => media(`p${n}`, NOW - n * 1000)),
      NOW,
    )
    await h.store.upsertMediaPage({ id: yt, user_id: alice }, 's1', [media('yt1', NOW)], NOW)
    const id = await ids(h)
    await h.store.enqueueArchiving(NOW, 100)
    assert.deepEqual(
      await h.store.claimArchiving('instagram', {
        now: NOW - 1,
        leaseUntil: NOW + LEASE,
        limit: 10,
        owner: 'i:early',
      }),
      [],
      'not due yet',
    )
    const claim = { now: NOW, leaseUntil: NOW + LEASE, limit: 3 }
    const [a, b] = await Promise.all([
      h.store.claimArchiving('instagram', { ...claim, owner: 'i:a' }),
      h.store.claimArchiving('instagram', { ...claim, owner: 'i:b' }),
    ])
    const claimed = [...a, ...b].map((r) => r.media_id)
    assert.equal(new Set(claimed).size, claimed.length, 'no row in both claims')
    assert.deepEqual(
      [...claimed].sort(),
      [id.p1, id.p2, id.p3, id.p4, id.p5].sort(),
      'every Instagram row, and no YouTube one',
    )
    for (const [who, rows] of [
      ['i:a', a],
      ['i:b', b],
    ] as const) {
      for (const r of rows) {
        assert.equal(r.lease_owner, who)
        assert.equal(r.lease_until, NOW + LEASE)
        assert.equal((await archiveRow(h, r.media_id))?.lease_owner, who, 'written')
      }
      // each claim hands out its rows oldest first
      const order = rows.map((r) => Object.keys(id).find((k) => id[k] === r.media_id))
      assert.deepEqual(order, [...order].sort().reverse())
    }
    assert.deepEqual(await claimAll(h, 'i:c', NOW + 1), [], 'leased')
    assert.deepEqual(
      (
        await h.store.claimArchiving('youtube', {
          now: NOW,
          leaseUntil: NOW + LEASE,
          limit: 10,
          owner: 'i:y',
        })
      ).map((r) => [r.media_id, r.platform]),
      [[id.yt1, 'youtube']],
    )
    // a heartbeat keeps a lease; a lease that ran out is taken over
    const first = a[0] ?? b[0]
    assert.ok(first)
    const holder = first.lease_owner ?? ''
    assert.equal(await h.store.renewArchiveLease(first.media_id, 'i:other', NOW + 9 * LEASE), false)
    assert.equal(await h.store.renewArchiveLease(first.media_id, holder, NOW + 3 * LEASE), true)
    assert.equal(Number((await archiveRow(h, first.media_id))?.lease_until), NOW + 3 * LEASE)
    const taken = await claimAll(h, 'i:d', NOW + LEASE)
    assert.deepEqual(taken.sort(), claimed.filter((m) => m !== first.media_id).sort())
    assert.deepEqual(await claimAll(h, 'i:e', NOW + 2 * LEASE - 1), [], 'every lease held')
    assert.deepEqual(
      (await claimAll(h, 'i:e', NOW + 3 * LEASE)).sort(),
      [...claimed].sort(),
      'the renewed one too, once it ran out',
    )
    assert.equal(await h.store.renewArchiveLease(first.media_id, holder, NOW + 9 * LEASE), false)
  })

  test('archive complete: stores the result and its blobs, for the lease holder only', async () => {
    const { h } = await synced([media('photo', NOW), media('video', NOW, { media_type: 'VIDEO' })])
    const id = await ids(h)
    await h.store.enqueueArchiving(NOW, 10)
    await claimAll(h, 'i:a')
    const input = {
      mediaId: id.video ?? '',
      owner: 'i:a',
      result: result(sha('a'), {
        video_state: 'stored',
        video_sha256: sha('b'),
        bytes: 5_200_000,
      }),
      blobs: [
        { sha256: sha('b'), kind: 'video' as const, bytes: 5_000_000 },
        { sha256: sha('a'), kind: 'picture' as const, bytes: 200_000 },
      ],
      now: NOW + 10,
    }
    assert.equal(await h.store.completeArchiving({ ...input, owner: 'i:b' }), 'lost')
    assert.deepEqual(await blobRows(h), [], 'a lost completion writes no blob')
    assert.equal((await archiveRow(h, id.video ?? ''))?.state, 'pending')
    assert.equal(await h.store.completeArchiving(input), 'stored')
    const row = await archiveRow(h, id.video ?? '')
    assert.deepEqual(
      row && {
        state: row.state,
        sha256: row.sha256,
        width: Number(row.width),
        height: Number(row.height),
        thumbhash: row.thumbhash,
        color: row.color,
        variants: JSON.parse(String(row.variants)) as unknown,
        video_state: row.video_state,
        video_sha256: row.video_sha256,
        video_reason: row.video_reason,
        bytes: Number(row.bytes),
        lease_until: row.lease_until,
        lease_owner: row.lease_owner,
        updated_at: Number(row.updated_at),
      },
      {
        ...result(sha('a')),
        state: 'stored',
        variants: result(sha('a')).variants,
        video_state: 'stored',
        video_sha256: sha('b'),
        bytes: 5_200_000,
        lease_until: null,
        lease_owner: null,
        updated_at: NOW + 10,
      },
    )
    assert.deepEqual(await blobRows(h), [
      { sha256: sha('a'), kind: 'picture', bytes: 200_000, state: 'stored', updated_at: NOW + 10 },
      { sha256: sha('b'), kind: 'video', bytes: 5_000_000, state: 'stored', updated_at: NOW + 10 },
    ])
    assert.equal(await h.store.completeArchiving(input), 'lost', 'the lease went with it')
    // the same picture again (another post): the blob is linked, its time bumped, not duplicated
    assert.equal(
      await h.store.completeArchiving({
        mediaId: id.photo ?? '',
        owner: 'i:a',
        result: result(sha('a')),
        blobs: [{ sha256: sha('a'), kind: 'picture', bytes: 200_000 }],
        now: NOW + 20,
      }),
      'stored',
    )
    assert.deepEqual(
      (await blobRows(h)).map((b) => [b.sha256, b.updated_at]),
      [
        [sha('a'), NOW + 20],
        [sha('b'), NOW + 10],
      ],
    )
    const blob = await h.store.getBlob(sha('b'))
    assert.deepEqual(blob, {
      sha256: sha('b'),
      kind: 'video',
      bytes: 5_000_000,
      state: 'stored',
      created_at: NOW + 10,
      updated_at: NOW + 10,
    })
    assert.equal(await h.store.getBlob(sha('c')), null)
    const [record] = await h.store.getArchives([id.video ?? ''])
    assert.deepEqual(record?.variants, result(sha('a')).variants)
    assert.equal(record?.width, 1080)
    assert.equal(record?.bytes, 5_200_000)
  })

  test('archive complete: a blob being deleted makes the whole completion change nothing', async () => {
    const { h, owner } = await synced([media('old', NOW), media('new', NOW)])
    const id = await ids(h)
    await h.store.enqueueArchiving(NOW, 10)
    await claimAll(h, 'i:a')
    await h.store.completeArchiving({
      mediaId: id.old ?? '',
      owner: 'i:a',
      result: result(sha('a')),
      blobs: [{ sha256: sha('a'), kind: 'picture', bytes: 1 }],
      now: NOW,
    })
    // the post goes; its blob, after the grace time, is claimed for deletion
    await h.store.upsertMediaPage(owner, 's2', [media('new', NOW)], NOW + 1)
    assert.equal(await h.store.removeMediaNotSeen(owner.id, 's2'), 1)
    assert.deepEqual(
      (await h.store.claimGarbage(NOW + HOUR, 10, NOW + 2 * HOUR)).map((b) => [b.sha256, b.state]),
      [[sha('a'), 'deleting']],
    )
    // the new post turns out to be the same picture, plus a video never seen before
    assert.equal(
      await h.store.completeArchiving({
        mediaId: id.new ?? '',
        owner: 'i:a',
        result: result(sha('a'), { video_state: 'stored', video_sha256: sha('0') }),
        blobs: [
          { sha256: sha('0'), kind: 'video', bytes: 5 },
          { sha256: sha('a'), kind: 'picture', bytes: 1 },
        ],
        now: NOW + 2 * HOUR,
      }),
      'blob_deleting',
    )
    assert.deepEqual(
      (await blobRows(h)).map((b) => [b.sha256, b.state, b.updated_at]),
      [[sha('a'), 'deleting', NOW + 2 * HOUR]],
      'the new blob was not written, the deleting one not touched',
    )
    const row = await archiveRow(h, id.new ?? '')
    assert.equal(row?.state, 'pending')
    assert.equal(row?.sha256, null)
    assert.equal(row?.lease_owner, 'i:a', 'the lease is kept: write the blob again and retry')
    // once the blob is gone, the retry stores it anew
    await h.store.forgetBlob(sha('a'))
    assert.equal(
      await h.store.completeArchiving({
        mediaId: id.new ?? '',
        owner: 'i:a',
        result: result(sha('a')),
        blobs: [{ sha256: sha('a'), kind: 'picture', bytes: 1 }],
        now: NOW + 3 * HOUR,
      }),
      'stored',
    )
    assert.equal((await h.store.getBlob(sha('a')))?.state, 'stored')
  })

  test('archive complete vs garbage claim, concurrent: a blob is never both referenced and deleting', async () => {
    const ROUNDS = 10
    const PER_ROUND = 3
    const old = Array.from({ length: ROUNDS }, (_, r) => media(`old${r}`, NOW - r))
    const fresh = Array.from({ length: ROUNDS * PER_ROUND }, (_, i) => media(`new${i}`, NOW))
    const { h, owner } = await synced([...old, ...fresh])
    const id = await ids(h)
    await h.store.enqueueArchiving(NOW, 1000)
    await claimAll(h, 'i:a')
    const hash = (r: number) => r.toString(16).padStart(64, '0')
    const link = (pid: string, r: number, now: number) =>
      h.store.completeArchiving({
        mediaId: id[pid] ?? '',
        owner: 'i:a',
        result: result(hash(r)),
        blobs: [{ sha256: hash(r), kind: 'picture', bytes: 1 }],
        now,
      })
    // one blob per round, written by a post that has since gone: unreferenced and old
    // (round r's at NOW + r hours: only it is old enough for round r's garbage claim)
    for (let r = 0; r < ROUNDS; r++)
      assert.equal(await link(`old${r}`, r, NOW + r * HOUR), 'stored')
    await h.store.upsertMediaPage(owner, 's2', fresh, NOW + 1)
    assert.equal(await h.store.removeMediaNotSeen(owner.id, 's2'), ROUNDS)
    for (let r = 0; r < ROUNDS; r++) {
      const later = NOW + (ROUNDS + r) * HOUR
      const linking = Array.from({ length: PER_ROUND }, (_, k) => `new${r * PER_ROUND + k}`)
      const [garbage, ...outcomes] = await Promise.all([
        h.store.claimGarbage(NOW + r * HOUR + 1, 1, later),
        ...linking.map((pid) => link(pid, r, later)),
      ])
      const blob = await h.store.getBlob(hash(r))
      const linked = await h.raw('SELECT media_id FROM media_archive WHERE sha256 = ?', [hash(r)])
      const stored = outcomes.filter((o) => o === 'stored').length
      assert.equal(linked.length, stored, `round ${r}: each stored completion links the blob`)
      if (blob?.state === 'deleting') {
        assert.equal(stored, 0, `round ${r}: deleting, yet linked`)
        assert.deepEqual(
          outcomes,
          linking.map(() => 'blob_deleting'),
        )
        assert.deepEqual(
          garbage.map((b) => b.sha256),
          [hash(r)],
        )
        await h.store.forgetBlob(hash(r))
      } else {
        assert.equal(stored, PER_ROUND, `round ${r}: linked, so not garbage`)
        assert.deepEqual(garbage, [])
      }
    }
  })

  test('archive claims in parallel each get work while work is due (PostgreSQL: SKIP LOCKED)', async () => {
    const { h } = await synced([media('p1', NOW), media('p2', NOW - 1)])
    await h.store.enqueueArchiving(NOW, 10)
    for (let round = 0; round < 10; round++) {
      const now = NOW + round * 2 * LEASE
      const claim = { now, leaseUntil: now + LEASE, limit: 1 }
      const claims = await Promise.all([
        h.store.claimArchiving('instagram', { ...claim, owner: 'i-a:x' }),
        h.store.claimArchiving('instagram', { ...claim, owner: 'i-b:x' }),
      ])
      assert.deepEqual(
        claims.map((c) => c.length),
        [1, 1],
        `round ${round}: both claims got one`,
      )
      assert.notEqual(claims[0]?.[0]?.media_id, claims[1]?.[0]?.media_id)
    }
  })

  test('archive fail: retried later, or failed for good; only by the lease holder', async () => {
    const { h } = await synced([media('p1', NOW), media('p2', NOW)])
    const id = await ids(h)
    await h.store.enqueueArchiving(NOW, 10)
    await claimAll(h, 'i:a')
    const fail = { owner: 'i:a', reason: 'the picture could not be downloaded', now: NOW + 1 }
    assert.equal(
      await h.store.failArchiving({ ...fail, mediaId: id.p1 ?? '', owner: 'i:b', retryAt: null }),
      false,
    )
    assert.equal(
      await h.store.failArchiving({ ...fail, mediaId: id.p1 ?? '', retryAt: NOW + HOUR }),
      true,
    )
    assert.equal(
      await h.store.failArchiving({ ...fail, mediaId: id.p2 ?? '', retryAt: null }),
      true,
    )
    const state = async (pid: string) => {
      const row = await archiveRow(h, id[pid] ?? '')
      return (
        row && [
          row.state,
          Number(row.attempts),
          row.reason,
          Number(row.next_attempt_at),
          row.lease_owner,
          row.lease_until,
        ]
      )
    }
    assert.deepEqual(await state('p1'), [
      'pending',
      1,
      'the picture could not be downloaded',
      NOW + HOUR,
      null,
      null,
    ])
    assert.deepEqual(await state('p2'), [
      'failed',
      1,
      'the picture could not be downloaded',
      NOW,
      null,
      null,
    ])
    assert.deepEqual(await claimAll(h, 'i:c', NOW + HOUR - 1), [], 'not due yet; failed never')
    assert.deepEqual(await claimAll(h, 'i:c', NOW + HOUR), [id.p1])
    assert.equal(
      await h.store.failArchiving({ ...fail, owner: 'i:c', mediaId: id.p1 ?? '', retryAt: null }),
      true,
    )
    assert.deepEqual((await state('p1'))?.slice(0, 2), ['failed', 2])
  })

  test('archive garbage: rows go with their media and account; unreferenced blobs after the grace time only', async () => {
    const h = harness()
    const alice = await user()
    const ig = await account(alice)
    const other = await account(alice, '17841400000000002')
    const owner = { id: ig, user_id: alice }
    await h.store.upsertMediaPage(
      owner,
      's1',
      [
        media('a', NOW),
        media('b', NOW),
        media('album', NOW, { media_type: 'CAROUSEL_ALBUM', children: [media('v', NOW)] }),
      ],
      NOW,
    )
    await h.store.upsertMediaPage({ id: other, user_id: alice }, 's1', [media('c', NOW)], NOW)
    const id = await ids(h)
    await h.store.enqueueArchiving(NOW, 100)
    await claimAll(h, 'i:a')
    const complete = async (pid: string, res: ArchiveResult, at: number) =>
      h.store.completeArchiving({
        mediaId: id[pid] ?? '',
        owner: 'i:a',
        result: res,
        blobs: [
          { sha256: res.sha256, kind: 'picture', bytes: 10 },
          ...(res.video_sha256 === null
            ? []
            : [{ sha256: res.video_sha256, kind: 'video' as const, bytes: 100 }]),
        ],
        now: at,
      })
    // a and c share a picture; v has a picture and a video; b and the album their own
    assert.equal(await complete('a', result(sha('1')), NOW), 'stored')
    assert.equal(await complete('c', result(sha('1')), NOW), 'stored')
    assert.equal(
      await complete('v', result(sha('2'), { video_state: 'stored', video_sha256: sha('3') }), NOW),
      'stored',
    )
    assert.equal(await complete('b', result(sha('4')), NOW), 'stored')
    assert.equal(await complete('album', result(sha('5')), NOW), 'stored')
    const garbage = async (now: number) =>
      (await h.store.claimGarbage(now - HOUR, 100, now)).map((b) => b.sha256).sort()
    assert.deepEqual(await garbage(NOW + 2 * HOUR), [], 'everything referenced')
    // the album goes from Instagram (its child with it), and b; a stays
    await h.store.upsertMediaPage(owner, 's2', [media('a', NOW)], NOW + 1)
    assert.equal(await h.store.removeMediaNotSeen(ig, 's2'), 2)
    assert.deepEqual(
      (await h.raw('SELECT media_id FROM media_archive')).map((r) => r.media_id).sort(),
      [id.a, id.c].sort(),
      'archive rows went with their media, the album child included',
    )
    assert.deepEqual(await garbage(NOW + 30 * MINUTE), [], 'within the grace time')
    assert.deepEqual(
      await garbage(NOW + 2 * HOUR),
      [sha('2'), sha('3'), sha('4'), sha('5')],
      'pictures and video of the deleted media; not the one a and c share',
    )
    const states = async () =>
      (await blobRows(h)).map((b) => [b.sha256.slice(0, 1), b.state]).sort()
    assert.deepEqual(await states(), [
      ['1', 'stored'],
      ['2', 'deleting'],
      ['3', 'deleting'],
      ['4', 'deleting'],
      ['5', 'deleting'],
    ])
    // a crash mid-deletion: the next claim hands them out again
    assert.deepEqual(await garbage(NOW + 3 * HOUR), [sha('2'), sha('3'), sha('4'), sha('5')])
    await h.store.forgetBlob(sha('2'))
    await h.store.forgetBlob(sha('3'))
    await h.store.forgetBlob(sha('1')) // stored: not forgotten
    assert.deepEqual(await states(), [
      ['1', 'stored'],
      ['4', 'deleting'],
      ['5', 'deleting'],
    ])
    assert.equal((await h.store.claimGarbage(NOW, 1, NOW + 3 * HOUR)).length, 1, 'the limit')
    await h.store.forgetBlob(sha('4'))
    await h.store.forgetBlob(sha('5'))
    // one of the two posts sharing sha 1 goes with its account: still referenced by the other
    assert.equal(await h.store.deleteAccount(alice, other), true)
    assert.deepEqual(
      (await h.raw('SELECT media_id FROM media_archive')).map((r) => r.media_id),
      [id.a],
    )
    assert.deepEqual(await garbage(NOW + 4 * HOUR), [])
    assert.equal(await h.store.deleteAccount(alice, ig), true)
    assert.deepEqual(await h.raw('SELECT media_id FROM media_archive'), [])
    assert.deepEqual(await garbage(NOW + 4 * HOUR), [sha('1')])
  })

  test('archive totals: bytes per user, counts and bytes per platform and state', async () => {
    const h = harness()
    const alice = await user()
    const bob = await user('b@example.com')
    const ig = await account(alice)
    const bobIg = await account(bob, '17841400000000009')
    await h.store.upsertMediaPage(
      { id: ig, user_id: alice },
      's1',
      [media('a1', NOW), media('a2', NOW), media('a3', NOW)],
      NOW,
    )
    await h.store.upsertMediaPage({ id: bobIg, user_id: bob }, 's1', [media('b1', NOW)], NOW)
    const id = await ids(h)
    assert.equal(await h.store.archivedBytes(alice), 0)
    assert.deepEqual(await h.store.archiveStatus(), [])
    await h.store.enqueueArchiving(NOW, 100)
    await claimAll(h, 'i:a')
    const done = async (pid: string, bytes: number) =>
      h.store.completeArchiving({
        mediaId: id[pid] ?? '',
        owner: 'i:a',
        result: result(sha(pid.slice(1, 2)), { bytes }),
        blobs: [{ sha256: sha(pid.slice(1, 2)), kind: 'picture', bytes }],
        now: NOW,
      })
    await done('a1', 3_000_000_000) // over 2^31
    await done('a2', 5)
    await done('b1', 7)
    await h.store.failArchiving({
      mediaId: id.a3 ?? '',
      owner: 'i:a',
      reason: 'x',
      retryAt: null,
      now: NOW,
    })
    assert.equal(await h.store.archivedBytes(alice), 3_000_000_005)
    assert.equal(await h.store.archivedBytes(bob), 7)
    assert.equal(await h.store.archivedBytes('nobody'), 0)
    assert.deepEqual(await h.store.archiveStatus(), [
      { platform: 'instagram', state: 'failed', items: 1, bytes: 0 },
      { platform: 'instagram', state: 'stored', items: 3, bytes: 3_000_000_012 },
    ])
  })

  test('archive gallery version: moves with a row’s state, video state, picture or reason, only the owner’s', async () => {
    const h = harness()
    const alice = await user()
    const bob = await user('b@example.com')
    const ig = await account(alice)
    await account(bob, '17841400000000009')
    await h.store.upsertMediaPage(
      { id: ig, user_id: alice },
      's1',
      [media('p1', NOW), media('p2', NOW)],
      NOW,
    )
    const id = await ids(h)
    const versions = async (): Promise<Record<string, number>> => {
      const rows = await h.raw('SELECT id, gallery_version FROM users')
      return Object.fromEntries(rows.map((r) => [String(r.id), Number(r.gallery_version)]))
    }
    const moves = async (what: string, change: () => Promise<unknown>, expected: boolean) => {
      const before = await versions()
      await change()
      const after = await versions()
      assert.equal((after[alice] ?? 0) > (before[alice] ?? 0), expected, what)
      assert.equal(after[bob], before[bob], `${what}: not Bob's`)
    }
    await moves('new archive rows (pending)', () => h.store.enqueueArchiving(NOW, 10), true)
    await moves('a claim (a lease only)', () => claimAll(h, 'i:a'), false)
    await moves(
      'a heartbeat',
      () => h.store.renewArchiveLease(id.p1 ?? '', 'i:a', NOW + 2 * LEASE),
      false,
    )
    await moves(
      'a failed attempt to retry (still pending, but the API shows its reason)',
      () =>
        h.store.failArchiving({
          mediaId: id.p2 ?? '',
          owner: 'i:a',
          reason: 'x',
          retryAt: NOW,
          now: NOW,
        }),
      true,
    )
    await moves(
      'stored',
      () =>
        h.store.completeArchiving({
          mediaId: id.p1 ?? '',
          owner: 'i:a',
          result: result(sha('a')),
          blobs: [{ sha256: sha('a'), kind: 'picture', bytes: 1 }],
          now: NOW,
        }),
      true,
    )
    await claimAll(h, 'i:b')
    await moves(
      'failed for good',
      () =>
        h.store.failArchiving({
          mediaId: id.p2 ?? '',
          owner: 'i:b',
          reason: 'x',
          retryAt: null,
          now: NOW,
        }),
      true,
    )
    await h.store.upsertMediaPage(
      { id: ig, user_id: alice },
      's2',
      [media('p1', NOW, { media_url: 'https://cdn.example/p1-new.jpg' }), media('p2', NOW)],
      NOW + 1,
    )
    await moves(
      'reset to pending (a new picture)',
      () => h.store.enqueueArchiving(NOW + 2, 10),
      true,
    )
    await moves('an enqueue with nothing to do', () => h.store.enqueueArchiving(NOW + 3, 10), false)
    await moves('a garbage claim', () => h.store.claimGarbage(NOW + 4, 10, NOW + 5), false)
  })

  test('archive maintenance: video states, blob totals, the largest archives', async () => {
    const h = harness()
    const alice = await user()
    const bob = await user('b@example.com')
    const ig = await account(alice)
    const bobIg = await account(bob, '17841400000000009')
    assert.deepEqual(await h.store.archiveVideoStatus(), [])
    assert.deepEqual(await h.store.blobTotals(), [])
    assert.deepEqual(await h.store.topArchiveUsers(5), [])
    await h.store.upsertMediaPage(
      { id: ig, user_id: alice },
      's1',
      [media('a1', NOW), media('a2', NOW, { media_type: 'VIDEO' })],
      NOW,
    )
    await h.store.upsertMediaPage(
      { id: bobIg, user_id: bob },
      's1',
      [media('b1', NOW, { media_type: 'VIDEO' })],
      NOW,
    )
    const id = await ids(h)
    await h.store.enqueueArchiving(NOW, 100)
    await claimAll(h, 'i:a')
    assert.deepEqual(await h.store.archiveVideoStatus(), [
      { platform: 'instagram', video_state: 'pending', items: 2 },
    ])
    assert.equal(
      await h.store.completeArchiving({
        mediaId: id.a2 ?? '',
        owner: 'i:a',
        result: result(sha('a'), {
          video_state: 'stored',
          video_sha256: sha('b'),
          bytes: 3_000_000_000,
        }),
        blobs: [
          { sha256: sha('a'), kind: 'picture', bytes: 200_000 },
          { sha256: sha('b'), kind: 'video', bytes: 2_999_800_000 },
        ],
        now: NOW,
      }),
      'stored',
    )
    assert.equal(
      await h.store.completeArchiving({
        mediaId: id.b1 ?? '',
        owner: 'i:a',
        result: result(sha('c'), { video_state: 'skipped', video_reason: 'too large', bytes: 9 }),
        blobs: [{ sha256: sha('c'), kind: 'picture', bytes: 9 }],
        now: NOW,
      }),
      'stored',
    )
    assert.deepEqual(await h.store.archiveVideoStatus(), [
      { platform: 'instagram', video_state: 'skipped', items: 1 },
      { platform: 'instagram', video_state: 'stored', items: 1 },
    ])
    assert.deepEqual(await h.store.blobTotals(), [
      { kind: 'picture', state: 'stored', blobs: 2, bytes: 200_009 },
      { kind: 'video', state: 'stored', blobs: 1, bytes: 2_999_800_000 },
    ])
    const [aliceRow, bobRow] = await h.store.topArchiveUsers(5)
    assert.deepEqual(
      [aliceRow?.user_id, aliceRow?.items, aliceRow?.bytes, bobRow?.user_id, bobRow?.bytes],
      [alice, 2, 3_000_000_000, bob, 9],
      'most bytes first, rows of every state counted',
    )
    assert.equal(bobRow?.email, 'b@example.com')
    assert.deepEqual(
      (await h.store.topArchiveUsers(1)).map((u) => u.user_id),
      [alice],
    )
    assert.deepEqual(await h.store.topArchiveUsers(0), [])
  })

  test('archive maintenance: stored blobs page by hash; requeueing sends their rows back to pending', async () => {
    const { h } = await synced([
      media('p1', NOW),
      media('p2', NOW + 1),
      media('v1', NOW + 2, { media_type: 'VIDEO' }),
      media('p3', NOW + 3),
    ])
    const id = await ids(h)
    await h.store.enqueueArchiving(NOW, 100)
    await claimAll(h, 'i:a')
    const complete = (
      pid: string,
      result: ArchiveResult,
      blobs: { sha256: string; kind: 'picture' | 'video'; bytes: number }[],
    ) =>
      h.store.completeArchiving({ mediaId: id[pid] ?? '', owner: 'i:a', result, blobs, now: NOW })
    await complete('p1', result(sha('a')), [{ sha256: sha('a'), kind: 'picture', bytes: 10 }])
    // the same picture under a second post
    await complete('p2', result(sha('a')), [{ sha256: sha('a'), kind: 'picture', bytes: 10 }])
    await complete(
      'v1',
      result(sha('c'), { video_state: 'stored', video_sha256: sha('d'), bytes: 30 }),
      [
        { sha256: sha('c'), kind: 'picture', bytes: 10 },
        { sha256: sha('d'), kind: 'video', bytes: 20 },
      ],
    )
    // p3 stays leased (being archived right now)
    await h.store.reserveBlob({ sha256: sha('e'), kind: 'picture', now: NOW })
    await h.store.reserveBlob({ sha256: sha('f'), kind: 'picture', now: NOW })
    assert.equal((await h.store.claimGarbage(NOW + 1, 1, NOW + 1)).length, 1, 'one deleting')

    const all = await h.store.listBlobs(null, 100)
    assert.deepEqual(
      all.map((b) => [b.sha256, b.kind, b.bytes]),
      [
        [sha('a'), 'picture', 10],
        [sha('c'), 'picture', 10],
        [sha('d'), 'video', 20],
        [sha('f'), 'picture', 0],
      ],
      'stored blobs only, in hash order (the deleting one left out)',
    )
    const first = await h.store.listBlobs(null, 2)
    assert.deepEqual(
      first.map((b) => b.sha256),
      [sha('a'), sha('c')],
    )
    const second = await h.store.listBlobs(first.at(-1)?.sha256 ?? null, 2)
    assert.deepEqual(
      second.map((b) => b.sha256),
      [sha('d'), sha('f')],
    )
    assert.deepEqual(await h.store.listBlobs(sha('f'), 2), [])
    assert.deepEqual(await h.store.listBlobs(null, 0), [])

    assert.equal(await h.store.requeueArchives([], NOW + 10), 0)
    // the picture shared by two posts and a video: three rows; the leased row and unknown hashes
    // are left alone
    assert.equal(
      await h.store.requeueArchives([sha('a'), sha('d'), sha('a'), sha('9')], NOW + 10),
      3,
    )
    const rows = await h.store.getArchives([id.p1 ?? '', id.p2 ?? '', id.v1 ?? '', id.p3 ?? ''])
    assert.deepEqual(
      rows.map((r) => [r.state, r.video_state, r.attempts, r.next_attempt_at, r.sha256]),
      [
        ['pending', 'none', 0, NOW + 10, sha('a')],
        ['pending', 'none', 0, NOW + 10, sha('a')],
        ['pending', 'pending', 0, NOW + 10, sha('c')],
        ['pending', 'none', 0, NOW, null],
      ],
      'they keep naming their blobs until archived again',
    )
    assert.equal(rows[3]?.lease_owner, 'i:a', 'the leased row is untouched')
    assert.equal(
      (await h.store.claimGarbage(NOW + HOUR, 10, NOW + HOUR)).some((b) =>
        [sha('a'), sha('c'), sha('d')].includes(b.sha256),
      ),
      false,
      'requeued blobs are still referenced',
    )
    assert.deepEqual(
      (await claimAll(h, 'i:b', NOW + 10)).sort(),
      [id.p1, id.p2, id.v1].sort(),
      'due again',
    )
  })
}
