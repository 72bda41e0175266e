/**
 * TikTok's embed player: the URL of one video (`www.tiktok.com/player/v1/{id}`, digits-only ids,
 * nothing else ever in the address), the registry entry that declares it, and the page's own
 * builder (`web/src/platforms.ts`), which must give the same URL from what the API hands it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  TIKTOK_EMBED,
  TIKTOK_PLAYER_ORIGIN,
  TIKTOK_PLAYER_TEMPLATE,
  tiktokPlayerUrl,
} from '../../src/providers/tiktok/embed.ts'
import { tiktokPlatform } from '../../src/providers/tiktok/platform.ts'
import { playerFrame, playerUrl, setPlayers } from '../../web/src/platforms.ts'
import type { Provider } from '../../web/src/api.ts'

const ID = '7300000000000000004'
const BAD_IDS = [
  '',
  ' 7300000000000000004',
  '7300000000000000004 ',
  '7300000000000000004\n',
  '73000000000000000a4',
  '-7300000000000000004',
  '7.3e18',
  '7300000000000000004/../../@evil',
  '7300000000000000004?autoplay=1',
  '7300000000000000004#x',
  '7300000000000000004&rel=1',
  '%37300000000000000004',
  '٧٣٠٠', // Arabic-Indic digits are not TikTok's
  '1'.repeat(33),
  'dQw4w9WgXcQ', // a YouTube id
]

test('tiktokPlayerUrl: the documented player URL of a digits-only id, with controls and no related videos', () => {
  assert.equal(TIKTOK_PLAYER_ORIGIN, 'https://www.tiktok.com')
  assert.equal(tiktokPlayerUrl(ID), `https://www.tiktok.com/player/v1/${ID}?controls=1&rel=0`)
  assert.equal(
    tiktokPlayerUrl('6718335390845095173'),
    TIKTOK_PLAYER_TEMPLATE.replace('{id}', '6718335390845095173'),
  )
  const url = new URL(tiktokPlayerUrl(ID) ?? '')
  assert.equal(url.origin, TIKTOK_PLAYER_ORIGIN)
  assert.equal(url.pathname, `/player/v1/${ID}`)
  assert.deepEqual(
    [...url.searchParams],
    [
      ['controls', '1'],
      ['rel', '0'],
    ],
  )
  // never autoplays: the visitor presses play
  assert.equal(url.searchParams.has('autoplay'), false)
})

test('tiktokPlayerUrl: any id that is not digits only gets no URL', () => {
  for (const id of BAD_IDS) assert.equal(tiktokPlayerUrl(id), null, JSON.stringify(id))
})

test('the registry declares the player: origin, template, digits-only ids, a portrait sandboxed frame', () => {
  assert.equal(tiktokPlatform.embed, TIKTOK_EMBED)
  const embed = tiktokPlatform.embed
  assert.ok(embed)
  assert.equal(embed.origin, TIKTOK_PLAYER_ORIGIN)
  assert.ok(embed.urlTemplate.startsWith(`${embed.origin}/player/v1/{id}`))
  const pattern = embed.idPattern
  assert.ok(pattern)
  assert.ok(pattern.test(ID))
  for (const id of BAD_IDS) assert.ok(!pattern.test(id), JSON.stringify(id))
  assert.ok(!pattern.global, 'a global pattern would keep state between tests')
  assert.deepEqual(embed.frame, {
    portrait: true,
    allow: 'fullscreen',
    sandbox: 'allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox',
  })
  // what a player must never be let do from inside the page
  for (const token of ['allow-top-navigation', 'allow-forms', 'allow-modals'])
    assert.ok(!embed.frame?.sandbox.includes(token), token)
})

test('the page builds the same URL from what the API gives it, and no URL for a bad id', () => {
  const provider = (fields: Partial<Provider>): Provider => ({
    platform: 'tiktok',
    label: 'TikTok',
    connect_path: '/api/socials/connect/tiktok',
    mode: 'real',
    connectable: true,
    sandbox: false,
    notice: null,
    has_player: true,
    embed_url: TIKTOK_EMBED.urlTemplate,
    embed_id_pattern: TIKTOK_EMBED.idPattern?.source ?? null,
    embed_frame: TIKTOK_EMBED.frame ?? null,
    ...fields,
  })
  setPlayers([provider({})])
  assert.equal(playerUrl('tiktok', ID), tiktokPlayerUrl(ID))
  assert.deepEqual(playerFrame('tiktok'), TIKTOK_EMBED.frame)
  for (const id of BAD_IDS) assert.equal(playerUrl('tiktok', id), null, JSON.stringify(id))
  // the page anchors the pattern itself: an unanchored one still admits whole ids only
  setPlayers([provider({ embed_id_pattern: '\\d{1,32}' })])
  assert.equal(playerUrl('tiktok', ID), tiktokPlayerUrl(ID))
  assert.equal(playerUrl('tiktok', `${ID}/../x`), null)
  // a pattern that does not compile admits nothing
  setPlayers([provider({ embed_id_pattern: '(' })])
  assert.equal(playerUrl('tiktok', ID), null)
  // the sandbox: no embed_url, no player, no frame
  setPlayers([provider({ mode: 'sandbox', sandbox: true, embed_url: null })])
  assert.equal(playerUrl('tiktok', ID), null)
  assert.equal(playerFrame('tiktok'), null)
})
