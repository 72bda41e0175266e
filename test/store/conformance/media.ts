/** Conformance: media pages, reconciliation, listing and the gallery version (`MediaStore`). */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { NOW, media, oauthInput } from './harness.ts'

export function mediaCases({ test, harness, user, account }: Conformance): void {
  test('gallery version: moves with every change to the user’s media or accounts, only theirs', async () => {
    const h = harness()
    const alice = await user()
    const bob = await user('b@example.com')
    const version = () => h.store.getGalleryVersion(alice)
    const moved = async (what: string, change: () => Promise<unknown>) => {
      const before = await version()
      const bobBefore = await h.store.getGalleryVersion(bob)
      await change()
      assert.ok((await version()) > before, `${what} moves the version`)
      assert.equal(await h.store.getGalleryVersion(bob), bobBefore, `${what}: not Bob's`)
    }
    assert.equal(await h.store.getGalleryVersion('nobody'), 0)
    let id = ''
    await moved('connecting an account', async () => {
      id = await account(alice)
    })
    const owner = { id, user_id: alice }
    await moved('new media', () => h.store.upsertMediaPage(owner, 's1', [media('1', NOW)], NOW))
    await moved('a changed caption', () =>
      h.store.upsertMediaPage(owner, 's2', [{ ...media('1', NOW), caption: 'new' }], NOW),
    )
    await moved('a deleted post', () => h.store.removeMediaNotSeen(id, 's3'))
    await h.store.upsertMediaPage(owner, 's4', [media('2', NOW)], NOW)
    await moved('a disconnected account (its media go with it)', () =>
      h.store.deleteAccount(alice, id),
    )
    const again = await account(alice)
    await h.store.upsertMediaPage({ id: again, user_id: alice }, 's5', [media('3', NOW)], NOW)
    await moved('"delete all my data"', () => h.store.deleteUserSocialData(alice))
  })

  test('media: page upsert counts added / updated / unchanged; albums keep children in order', async () => {
    const h = harness()
    const userId = await user()
    const accountId = await account(userId)
    const acc = { id: accountId, user_id: userId }
    const album = media('300', NOW - 3, {
      media_type: 'CAROUSEL_ALBUM',
      children: [media('301', NOW - 3), media('302', NOW - 3, { media_type: 'VIDEO' })],
    })
    const page = [media('100', NOW - 1), media('200', NOW - 2), album]
    assert.deepEqual(await h.store.upsertMediaPage(acc, 'sync1', page, NOW), {
      added: 3,
      updated: 0,
      refreshed: 0,
      known: 0,
    })
    assert.deepEqual(await h.store.upsertMediaPage(acc, 'sync2', page, NOW), {
      added: 0,
      updated: 0,
      refreshed: 0,
      known: 3,
    })
    const edited = [
      media('100', NOW - 1, { caption: 'edited' }),
      media('200', NOW - 2),
      { ...album, children: [media('302', NOW - 3, { media_type: 'VIDEO' })] },
    ]
    assert.deepEqual(await h.store.upsertMediaPage(acc, 'sync3', edited, NOW + 1), {
      added: 0,
      updated: 2,
      refreshed: 0,
      known: 3,
    })
    // fresh signed URLs alone are a refresh, not an edit; they are stored
    const resigned = [
      media('100', NOW - 1, {
        caption: 'edited',
        media_url: 'https://cdn.example/100.jpg?oe=2',
        url_expires_at: 2000,
      }),
    ]
    assert.deepEqual(await h.store.upsertMediaPage(acc, 'sync4', resigned, NOW + 2), {
      added: 0,
      updated: 0,
      refreshed: 1,
      known: 1,
    })
    assert.deepEqual(await h.store.summarizeMedia(accountId), { count: 3, urlsExpireAt: 2000 })
    const [resignedRow] = await h.raw(
      'SELECT media_url, url_expires_at, updated_at FROM media WHERE platform_media_id = ?',
      ['100'],
    )
    assert.deepEqual(resignedRow, {
      media_url: 'https://cdn.example/100.jpg?oe=2',
      url_expires_at: 2000,
      updated_at: NOW + 2,
    })
    const raw = await h.raw(
      'SELECT platform_media_id, caption FROM media WHERE platform_media_id = ?',
      ['100'],
    )
    assert.deepEqual(raw, [{ platform_media_id: '100', caption: 'edited' }])
    assert.equal(
      (await h.raw('SELECT id FROM media WHERE platform_media_id = ?', ['301'])).length,
      0,
    )
    const listed = await h.store.listMedia({ user_id: userId, limit: 10 })
    assert.deepEqual(
      listed.map((m) => m.platform_media_id),
      ['100', '200', '300'],
    )
    assert.deepEqual(
      listed[2]?.children.map((c) => [c.platform_media_id, c.position]),
      [['302', 0]],
    )
  })

  test('media: removeMediaNotSeen deletes only unseen top-level items and their children', async () => {
    const h = harness()
    const userId = await user()
    const accountId = await account(userId)
    const acc = { id: accountId, user_id: userId }
    const album = media('300', NOW - 3, {
      media_type: 'CAROUSEL_ALBUM',
      children: [media('301', NOW - 3)],
    })
    await h.store.upsertMediaPage(acc, 'sync1', [media('100', NOW - 1), album], NOW)
    await h.store.upsertMediaPage(acc, 'sync2', [media('100', NOW - 1)], NOW)
    assert.equal(await h.store.removeMediaNotSeen(accountId, 'sync2'), 1)
    assert.deepEqual(
      await h.raw('SELECT platform_media_id FROM media ORDER BY platform_media_id'),
      [{ platform_media_id: '100' }],
    )
  })

  test('media: keyset pagination is newest first, stable on equal timestamps, scoped per user and account', async () => {
    const h = harness()
    const userId = await user()
    const other = await user('b@example.com')
    const a1 = await account(userId, '1')
    const a2 = await account(userId, '2')
    const items = Array.from({ length: 25 }, (_, i) =>
      media(`m${String(i).padStart(2, '0')}`, NOW - Math.floor(i / 3)),
    )
    await h.store.upsertMediaPage({ id: a1, user_id: userId }, 's', items.slice(0, 15), NOW)
    await h.store.upsertMediaPage({ id: a2, user_id: userId }, 's', items.slice(15), NOW)
    const seen: string[] = []
    let after: { timestamp: number; id: string } | undefined
    for (let guard = 0; guard < 20; guard++) {
      const page = await h.store.listMedia({
        user_id: userId,
        limit: 4,
        ...(after ? { after } : {}),
      })
      if (page.length === 0) break
      seen.push(...page.map((m) => m.platform_media_id))
      const last = page[page.length - 1]
      assert.ok(last)
      after = { timestamp: last.timestamp, id: last.id }
    }
    assert.equal(seen.length, 25)
    assert.equal(new Set(seen).size, 25)
    const timestamps = (await h.store.listMedia({ user_id: userId, limit: 100 })).map(
      (m) => m.timestamp,
    )
    assert.deepEqual(
      timestamps,
      [...timestamps].sort((x, y) => y - x),
    )
    assert.equal(
      (await h.store.listMedia({ user_id: userId, account_id: a2, limit: 100 })).length,
      10,
    )
    const video = media('v1', NOW + 5, { media_type: 'VIDEO' })
    await h.store.upsertMediaPage({ id: a2, user_id: userId }, 's', [video], NOW)
    const videos = await h.store.listMedia({ user_id: userId, media_type: 'VIDEO', limit: 100 })
    assert.deepEqual(
      videos.map((m) => m.platform_media_id),
      ['v1'],
    )
    assert.equal((await h.store.listMedia({ user_id: other, limit: 100 })).length, 0)
    assert.equal(
      (await h.store.listMedia({ user_id: other, account_id: a1, limit: 100 })).length,
      0,
    )
  })

  test('media: duration and visibility round-trip, count as edits, and listing filters by platform', async () => {
    const h = harness()
    const userId = await user()
    const other = await user('b@example.com')
    const ig = await account(userId)
    const yt = (
      await h.store.upsertOAuthAccount({
        ...oauthInput(userId, 'UCdemo'),
        platform: 'youtube',
        platform_scoped_id: null,
        platform_attributes: {},
      })
    ).account.id
    const theirs = (
      await h.store.upsertOAuthAccount({
        ...oauthInput(other, 'UCother'),
        platform: 'youtube',
        platform_scoped_id: null,
        platform_attributes: {},
      })
    ).account.id
    const short = media('yt1', NOW, {
      media_type: 'VIDEO',
      media_product_type: 'SHORTS',
      duration_seconds: 42,
      visibility: 'unlisted',
    })
    await h.store.upsertMediaPage({ id: ig, user_id: userId }, 's', [media('ig1', NOW - 1)], NOW)
    await h.store.upsertMediaPage({ id: yt, user_id: userId }, 's', [short], NOW)
    await h.store.upsertMediaPage({ id: theirs, user_id: other }, 's', [media('x', NOW)], NOW)
    const youtube = await h.store.listMedia({ user_id: userId, platform: 'youtube', limit: 10 })
    assert.deepEqual(
      youtube.map((m) => [m.platform_media_id, m.duration_seconds, m.visibility]),
      [['yt1', 42, 'unlisted']],
    )
    const instagram = await h.store.listMedia({ user_id: userId, platform: 'instagram', limit: 10 })
    assert.deepEqual(
      instagram.map((m) => [m.platform_media_id, m.duration_seconds, m.visibility]),
      [['ig1', null, 'public']],
    )
    assert.equal((await h.store.listMedia({ user_id: userId, platform: 'x', limit: 10 })).length, 0)
    // a video made private on its platform is an edit, not a refresh
    const result = await h.store.upsertMediaPage(
      { id: yt, user_id: userId },
      's2',
      [{ ...short, visibility: 'private' }],
      NOW,
    )
    assert.equal(result.updated, 1)
    const [after] = await h.store.listMedia({ user_id: userId, platform: 'youtube', limit: 10 })
    assert.equal(after?.visibility, 'private')
    // what a listing may reuse: only this account's rows, by platform id
    assert.deepEqual(
      [...(await h.store.storedMediaHints(yt, ['yt1', 'ig1', 'nope', 'x']))],
      [['yt1', { media_product_type: 'SHORTS' }]],
    )
    assert.equal((await h.store.storedMediaHints(yt, [])).size, 0)
  })

  test('media: refreshMediaUrls rewrites only the URLs of stored rows (children too), moving the version', async () => {
    const h = harness()
    const userId = await user()
    const accountId = await account(userId)
    const other = await account(userId, '17841400000000999')
    const acc = { id: accountId, user_id: userId }
    const album = media('400', NOW - 4, {
      media_type: 'CAROUSEL_ALBUM',
      url_expires_at: NOW + 1000,
      children: [media('401', NOW - 4, { url_expires_at: NOW + 1000 })],
    })
    await h.store.upsertMediaPage(acc, 'sync1', [media('100', NOW - 1), album], NOW)
    await h.store.upsertMediaPage({ id: other, user_id: userId }, 'sync1', [media('100', NOW)], NOW)
    const listed = async (id: string) =>
      (await h.store.listMedia({ user_id: userId, account_id: id, limit: 10 })).map((m) => ({
        id: m.platform_media_id,
        url: m.media_url,
        caption: m.caption,
        expires: m.url_expires_at,
        children: m.children.map((c) => [c.platform_media_id, c.media_url, c.url_expires_at]),
      }))
    const before = await listed(accountId)
    const version = await h.store.getGalleryVersion(userId)
    const fresh = {
      ...album,
      caption: 'not written by a refresh',
      media_url: 'https://cdn.example/400.jpg?oe=2',
      url_expires_at: NOW + 5000,
      children: [
        media('401', NOW - 4, {
          media_url: 'https://cdn.example/401.jpg?oe=2',
          url_expires_at: NOW + 5000,
        }),
      ],
    }
    // an unknown id and an unchanged row are not written
    const changed = await h.store.refreshMediaUrls(
      accountId,
      [fresh, media('100', NOW - 1), media('999', NOW)],
      NOW + 10,
    )
    assert.equal(changed, 2, 'the album and its child')
    assert.ok((await h.store.getGalleryVersion(userId)) > version, 'the version moves')
    const after = await listed(accountId)
    assert.equal(after.length, 2, 'nothing added or removed')
    const refreshed = after.find((m) => m.id === '400')
    assert.deepEqual(refreshed, {
      id: '400',
      url: 'https://cdn.example/400.jpg?oe=2',
      caption: before.find((m) => m.id === '400')?.caption,
      expires: NOW + 5000,
      children: [['401', 'https://cdn.example/401.jpg?oe=2', NOW + 5000]],
    })
    assert.deepEqual(
      after.find((m) => m.id === '100'),
      before.find((m) => m.id === '100'),
    )
    // the other account's row of the same platform id is not touched
    assert.equal((await listed(other))[0]?.url, 'https://cdn.example/100.jpg')
    // the same URLs again: nothing written, the version stays
    const settled = await h.store.getGalleryVersion(userId)
    assert.equal(await h.store.refreshMediaUrls(accountId, [fresh], NOW + 20), 0)
    assert.equal(await h.store.getGalleryVersion(userId), settled)
    // where the rows' URLs stand, by our ids
    const ids = (await h.store.listMedia({ user_id: userId, account_id: accountId, limit: 10 }))
      .flatMap((m) => [m, ...m.children])
      .map((m) => m.id)
    const states = await h.store.mediaUrlStates([...ids, 'no-such-id'])
    assert.deepEqual(
      states.map((s) => [s.platform_media_id, s.account_id, s.url_expires_at]).sort(),
      [
        ['100', accountId, null],
        ['400', accountId, NOW + 5000],
        ['401', accountId, NOW + 5000],
      ],
    )
  })
}
