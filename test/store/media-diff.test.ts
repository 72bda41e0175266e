/**
 * The media diff of `upsertMediaPage`, on its own: unit cases, then properties over generated
 * pages and stored rows (every item classified exactly once, by what actually differs, the same
 * whatever the page order, and nothing left to change when the same page comes again).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  compareMedia,
  itemChange,
  mediaContent,
  planMediaPage,
  tallyMediaPage,
  type MediaChange,
  type PlannedItem,
  type PlannedMedia,
  type StoredMedia,
} from '../../src/store/media-diff.ts'
import type { MediaInput } from '../../src/store/types.ts'
import { media } from './conformance/harness.ts'

type Child = Omit<MediaInput, 'children'>

/** A media item (the conformance suite's fixture) at a fixed time. */
const item = (id: string, extra: Partial<MediaInput> = {}): MediaInput => media(id, 1_000, extra)

/** Record ids `n1`, `n2`, … in the order the plan asks for them. */
function counter(): () => string {
  let n = 0
  return () => `n${++n}`
}

/** The rows stored after writing `plan` over `stored` (what `upsertMediaPage` leaves behind). */
function applied(
  stored: ReadonlyMap<string, StoredMedia>,
  plan: readonly PlannedItem[],
): Map<string, StoredMedia> {
  const after = new Map(stored)
  for (const row of plan.flatMap((p) => [p, ...p.children]))
    after.set(row.item.platform_media_id, { id: row.id, ...row.content })
  return after
}

/** Every planned row by platform id: its change, and for top-level items their album's. */
function changesById(plan: readonly PlannedItem[]): Map<string, string> {
  const changes = new Map<string, string>()
  for (const p of plan) {
    changes.set(p.item.platform_media_id, `${p.change}/${itemChange(p, 0)}/${String(p.album)}`)
    for (const c of p.children) changes.set(c.item.platform_media_id, c.change)
  }
  return changes
}

describe('media diff: unit cases', () => {
  test('new, edited, re-signed and unchanged rows', () => {
    const stored = mediaContent(item('1'), null, 0)
    assert.equal(compareMedia(undefined, stored), 'added')
    assert.equal(compareMedia(stored, mediaContent(item('1'), null, 0)), 'unchanged')
    assert.equal(
      compareMedia(stored, mediaContent(item('1', { caption: 'x' }), null, 0)),
      'updated',
    )
    const resigned = item('1', { media_url: 'https://cdn.example/1.jpg?oe=2', url_expires_at: 2 })
    assert.equal(compareMedia(stored, mediaContent(resigned, null, 0)), 'refreshed')
    assert.equal(compareMedia(stored, mediaContent(item('1'), 'album', 0)), 'updated', 'moved')
    assert.equal(compareMedia(stored, mediaContent(item('1'), null, 1)), 'updated', 'reordered')
  })

  test('an item listed twice is planned once, as first listed; new rows get new ids', () => {
    const plan = planMediaPage(
      [item('1'), item('2'), item('1', { caption: 'later' })],
      new Map([['2', { id: 'r2', ...mediaContent(item('2'), null, 0) }]]),
      counter(),
    )
    assert.deepEqual(
      plan.map((p) => [p.item.platform_media_id, p.id, p.change, p.content.caption]),
      [
        ['1', 'n1', 'added', 'caption 1'],
        ['2', 'r2', 'unchanged', 'caption 2'],
      ],
    )
    assert.deepEqual(tallyMediaPage(plan.map((p) => itemChange(p, 0))), {
      added: 1,
      updated: 0,
      refreshed: 0,
      known: 1,
    })
  })

  test('albums: children under the album’s id, in order; child edits and removals edit the album', () => {
    const album = item('a', {
      media_type: 'CAROUSEL_ALBUM',
      children: [item('c1'), item('c2', { media_url: 'https://cdn.example/c2.jpg?oe=9' })],
    })
    const stored = new Map<string, StoredMedia>([
      ['a', { id: 'ra', ...mediaContent(album, null, 0) }],
      ['c1', { id: 'rc1', ...mediaContent(item('c1'), 'ra', 0) }],
      ['c2', { id: 'rc2', ...mediaContent(item('c2'), 'ra', 1) }],
    ])
    const [planned] = planMediaPage([album], stored, counter())
    assert.ok(planned)
    assert.equal(planned.album, true)
    assert.deepEqual(
      planned.children.map((c) => [c.id, c.content.parent_id, c.content.position, c.change]),
      [
        ['rc1', 'ra', 0, 'unchanged'],
        ['rc2', 'ra', 1, 'refreshed'],
      ],
    )
    assert.equal(itemChange(planned, 0), 'refreshed', 'a re-signed child refreshes the album')
    assert.equal(itemChange(planned, 1), 'updated', 'a removed child edits it')
    // a stored album that is now a single image still has its old children removed
    const [flattened] = planMediaPage([item('a')], stored, counter())
    assert.equal(flattened?.album, true)
    // a new album: its stored children move under the new record
    const [moved] = planMediaPage([{ ...album, platform_media_id: 'b' }], stored, counter())
    assert.deepEqual(
      moved?.children.map((c) => [c.id, c.content.parent_id, c.change]),
      [
        ['rc1', 'n1', 'updated'],
        ['rc2', 'n1', 'updated'],
      ],
    )
    assert.equal(moved && itemChange(moved, 0), 'added')
  })
})

/** How a generated node is stored before the page: not at all, as the page has it, or differently. */
type StoredAs = 'absent' | 'same' | 'resigned' | 'edited' | 'other'

interface Node {
  readonly content: Omit<Child, 'platform_media_id'>
  readonly storedAs: StoredAs
}

const nodeContent = fc.record({
  media_type: fc.constantFrom('IMAGE' as const, 'VIDEO' as const),
  media_product_type: fc.constantFrom('FEED', null),
  media_url: fc.constantFrom('https://cdn.example/a.jpg', 'https://cdn.example/b.jpg', null),
  thumbnail_url: fc.constantFrom('https://cdn.example/t.jpg', null),
  url_expires_at: fc.constantFrom(1_000, 2_000, null),
  permalink: fc.constantFrom('https://www.instagram.com/p/x/', null),
  caption: fc.constantFrom('a', 'b', null),
  timestamp: fc.constantFrom(1, 2),
  duration_seconds: fc.constantFrom(12, null),
  visibility: fc.constantFrom('public' as const, 'private' as const),
})
const node: fc.Arbitrary<Node> = fc.record({
  content: nodeContent,
  storedAs: fc.constantFrom<StoredAs>('absent', 'same', 'resigned', 'edited', 'other'),
})
const other = nodeContent

/** A page of uniquely identified items (some albums), and the rows stored before it. */
const pageAndStore = fc
  .array(
    fc.record({
      top: node,
      album: fc.boolean(),
      children: fc.array(node, { maxLength: 4 }),
      otherContent: other,
      otherChild: other,
    }),
    { maxLength: 15 },
  )
  .map((specs) => {
    const stored = new Map<string, StoredMedia>()
    const store = (
      id: string,
      n: Node,
      page: Child,
      parentId: string | null,
      position: number,
      otherContent: Omit<Child, 'platform_media_id'>,
    ): void => {
      const asOnPage = mediaContent(page, parentId, position)
      const row: Record<Exclude<StoredAs, 'absent'>, () => StoredMedia> = {
        same: () => ({ id: `r-${id}`, ...asOnPage }),
        resigned: () => ({ id: `r-${id}`, ...asOnPage, media_url: 'https://cdn.example/old.jpg' }),
        edited: () => ({ id: `r-${id}`, ...asOnPage, caption: 'edited on the platform' }),
        other: () => ({ id: `r-${id}`, ...mediaContent({ ...page, ...otherContent }, null, 0) }),
      }
      if (n.storedAs !== 'absent') stored.set(id, row[n.storedAs]())
    }
    const items = specs.map((spec, i): MediaInput => {
      const id = `t${i}`
      const children = spec.children.map((c, j): Child => ({
        platform_media_id: `t${i}c${j}`,
        ...c.content,
      }))
      const top: MediaInput = {
        platform_media_id: id,
        ...spec.top.content,
        media_type: spec.album ? 'CAROUSEL_ALBUM' : spec.top.content.media_type,
        children,
      }
      store(id, spec.top, top, null, 0, spec.otherContent)
      const parentStoredId = stored.get(id)?.id ?? 'a-record-gone-since'
      children.forEach((child, j) => {
        const spec2 = spec.children[j]
        if (spec2 !== undefined)
          store(child.platform_media_id, spec2, child, parentStoredId, j, spec.otherChild)
      })
      return top
    })
    return { items, stored, specs }
  })

/** The page with its top-level items in another order. */
const shuffledPage = pageAndStore.chain((world) =>
  fc
    .shuffledSubarray(world.items, {
      minLength: world.items.length,
      maxLength: world.items.length,
    })
    .map((shuffled) => ({ ...world, shuffled })),
)

describe('media diff: properties', () => {
  test('every item is planned exactly once, and the tally accounts for each of them', () => {
    fc.assert(
      fc.property(
        pageAndStore,
        fc.array(fc.nat(), { maxLength: 6 }),
        ({ items, stored }, repeats) => {
          // the provider may list an item again (a shifted page): with other content, too
          const page = [
            ...items,
            ...repeats.flatMap((n) => {
              const again = items[n % Math.max(1, items.length)]
              return again === undefined ? [] : [{ ...again, caption: 'listed again' }]
            }),
          ]
          const plan = planMediaPage(page, stored, counter())
          assert.deepEqual(
            plan.map((p) => p.item),
            items,
            'once each, as first listed',
          )
          for (const p of plan)
            assert.deepEqual(
              p.children.map((c) => [c.item, c.content.position, c.content.parent_id]),
              items
                .find((i) => i.platform_media_id === p.item.platform_media_id)
                ?.children.map((c, j) => [c, j, p.id]),
            )
          const changes = plan.map((p) => itemChange(p, 0))
          const tally = tallyMediaPage(changes)
          const unchanged = changes.filter((c) => c === 'unchanged').length
          assert.equal(tally.added + tally.updated + tally.refreshed + unchanged, items.length)
          assert.equal(tally.known, items.length - tally.added)
        },
      ),
      { numRuns: 300 },
    )
  })

  test('each row is classified by what differs from its stored version', () => {
    fc.assert(
      fc.property(pageAndStore, ({ items, stored, specs }) => {
        const plan = planMediaPage(items, stored, counter())
        const storedIds = new Set([...stored.values()].map((row) => row.id))
        const newIds = new Set<string>()
        plan.forEach((p, i) => {
          const spec = specs[i]
          assert.ok(spec)
          // each row, how it was stored, and whether its album record (if any) was stored
          const rows: [PlannedMedia, Node, boolean][] = [
            [p, spec.top, true],
            ...p.children.map((c, j): [PlannedMedia, Node, boolean] => {
              const n = spec.children[j]
              assert.ok(n)
              return [c, n, p.change !== 'added']
            }),
          ]
          for (const [row, n, parentKept] of rows) {
            const before = stored.get(row.item.platform_media_id)
            if (n.storedAs === 'absent') {
              assert.equal(row.change, 'added')
              assert.ok(!storedIds.has(row.id) && !newIds.has(row.id), 'a new, unique id')
              newIds.add(row.id)
              continue
            }
            assert.equal(row.id, before?.id, 'a stored row keeps its id')
            const expected: Record<Exclude<StoredAs, 'absent' | 'other'>, MediaChange> = {
              // a child whose album record is new has moved: an edit
              same: parentKept ? 'unchanged' : 'updated',
              resigned: parentKept ? 'refreshed' : 'updated',
              edited: 'updated',
            }
            if (n.storedAs !== 'other') assert.equal(row.change, expected[n.storedAs])
            else assert.equal(row.change, compareMedia(before, row.content))
          }
        })
      }),
      { numRuns: 300 },
    )
  })

  test('the classification does not depend on the order of the page', () => {
    fc.assert(
      fc.property(shuffledPage, ({ items, shuffled, stored }) => {
        const inOrder = planMediaPage(items, stored, counter())
        const reordered = planMediaPage(shuffled, stored, counter())
        assert.deepEqual(changesById(reordered), changesById(inOrder))
        assert.deepEqual(
          tallyMediaPage(reordered.map((p) => itemChange(p, 0))),
          tallyMediaPage(inOrder.map((p) => itemChange(p, 0))),
        )
      }),
      { numRuns: 300 },
    )
  })

  test('the same page again, once stored, changes nothing', () => {
    fc.assert(
      fc.property(pageAndStore, ({ items, stored }) => {
        const first = planMediaPage(items, stored, counter())
        const second = planMediaPage(items, applied(stored, first), counter())
        assert.deepEqual(
          second.map((p) => [p.id, ...p.children.map((c) => c.id)]),
          first.map((p) => [p.id, ...p.children.map((c) => c.id)]),
          'the same records',
        )
        for (const p of second) assert.equal(itemChange(p, 0), 'unchanged')
        for (const c of second.flatMap((p) => p.children)) assert.equal(c.change, 'unchanged')
        assert.deepEqual(tallyMediaPage(second.map((p) => itemChange(p, 0))), {
          added: 0,
          updated: 0,
          refreshed: 0,
          known: items.length,
        })
      }),
      { numRuns: 300 },
    )
  })

  test('an album’s change is the strongest of its own, its children’s and its removals', () => {
    const change = fc.constantFrom<MediaChange>('added', 'updated', 'refreshed', 'unchanged')
    const weakToStrong = ['unchanged', 'refreshed', 'updated'] as const
    const rank = (c: MediaChange): number =>
      // a new child is an edit of the album that holds it, not a new album
      c === 'added' ? 2 : weakToStrong.indexOf(c)
    const planned = (own: MediaChange, children: readonly MediaChange[]): PlannedItem => ({
      id: 'ra',
      item: item('a'),
      content: mediaContent(item('a'), null, 0),
      change: own,
      album: true,
      children: children.map((c, j) => ({
        id: `rc${j}`,
        item: item(`c${j}`),
        content: mediaContent(item(`c${j}`), 'ra', j),
        change: c,
      })),
    })
    fc.assert(
      fc.property(
        change,
        fc.array(change, { maxLength: 5 }),
        fc.nat({ max: 3 }),
        (own, children, removed) => {
          const strongest = Math.max(rank(own), ...children.map(rank), removed > 0 ? 2 : 0)
          assert.equal(
            itemChange(planned(own, children), removed),
            own === 'added' ? 'added' : weakToStrong[strongest],
          )
        },
      ),
    )
  })
})
