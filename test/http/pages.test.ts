/**
 * The built pages are templates the server writes into: a page missing a slot (a changed web
 * build) stops the service at start-up instead of serving pages without their notices.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_WEB_ROOT, pagesRoutes } from '../../src/http/routes/pages.ts'
import { loadConfig } from '../../src/config/load-config.ts'
import type { AppContext } from '../../src/http/context.ts'
import { tempDir } from '../helpers/temp.ts'

const ctx = { config: loadConfig({}), modes: { instagram: 'sandbox' } } as unknown as AppContext

test('the built pages hold every slot the server writes into', (t) => {
  /** A copy of the built pages, edited. */
  const webRoot = (edit: (name: string, html: string) => string): string => {
    const dir = tempDir('psg-web-')
    t.after(dir.cleanup)
    mkdirSync(join(dir.path, 'assets'))
    for (const name of ['index.html', 'popup-result.html'])
      writeFileSync(
        join(dir.path, name),
        edit(name, readFileSync(join(DEFAULT_WEB_ROOT, name), 'utf8')),
      )
    return dir.path
  }
  assert.doesNotThrow(() =>
    pagesRoutes(
      ctx,
      webRoot((_name, html) => html),
    ),
  )
  const cases: [string, string, RegExp][] = [
    [
      'index.html',
      '<div id="notices" class="notices" aria-live="polite"></div>',
      /index\.html must hold <div id="notices"/,
    ],
    [
      'index.html',
      '<div id="banner" class="sandbox" role="note" hidden></div>',
      /index\.html must hold <div id="banner"/,
    ],
    ['popup-result.html', '</head>', /popup-result\.html must hold <\/head>/],
  ]
  for (const [file, slot, message] of cases) {
    const broken = webRoot((name, html) => (name === file ? html.replace(slot, '') : html))
    assert.throws(() => pagesRoutes(ctx, broken), message, `${file} without ${slot}`)
  }
  // twice is as wrong as never: the server would fill only the first
  const doubled = webRoot((name, html) =>
    name === 'index.html' ? html.replace('</head>', '</head></head>') : html,
  )
  assert.throws(() => pagesRoutes(ctx, doubled), /exactly once/)
})
