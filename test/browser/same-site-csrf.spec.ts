/**
 * A same-site attacker in real Chromium (F2 of the 2026-12 red-team pass): the victim is signed in
 * on the app at http://127.0.0.1:A and has a connected account; a page on http://127.0.0.1:B
 * (another port: the same site, so the SameSite=Lax session cookie travels) sends body-less
 * `no-cors` POSTs and a form post to the API under percent-encoded paths (`/%61pi/...`), which the
 * router decodes to the `/api` routes. The same-origin check must refuse every one of them.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  connectThroughPopup,
  openContext,
  serveTestApp,
  signUpInPage,
  useChromium,
  withScreenshots,
} from '../helpers/browser.ts'
import { count, type TestApp } from '../helpers/build-app.ts'

const PASSWORD = 'correct horse battery'

const browser = useChromium()

interface Completed {
  readonly method: string
  readonly url: string
  readonly status: number
}

/** The app's own access log: every request it completed, as it saw the target. */
function completed(app: TestApp, from: number): Completed[] {
  const out: Completed[] = []
  for (const line of app.logs.slice(from)) {
    if (!line.includes('"request completed"') && !line.includes('"request errored"')) continue
    const entry = JSON.parse(line) as {
      req?: { method?: string; url?: string }
      res?: { statusCode?: number }
    }
    out.push({
      method: entry.req?.method ?? '',
      url: entry.req?.url ?? '',
      status: entry.res?.statusCode ?? 0,
    })
  }
  return out
}

/** Waits (bounded) until the app has logged a completed POST for every path in `paths`. */
async function waitForCompleted(app: TestApp, from: number, paths: string[]): Promise<Completed[]> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const done = completed(app, from).filter((c) => c.method === 'POST' && paths.includes(c.url))
    if (paths.every((p) => done.some((c) => c.url === p))) return done
    if (Date.now() > deadline)
      throw new Error(
        `the app never completed ${paths.filter((p) => !done.some((c) => c.url === p)).join(', ')}; it saw ${JSON.stringify(completed(app, from))}`,
      )
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

test('a page on another loopback port (same site) cannot sync, sign out or add accounts through /%61pi/...', async (t) => {
  const app = await serveTestApp(t)
  // the attacker's page, on another port of the same host
  const attacker = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    response.end('<!doctype html><title>Win a prize</title><h1>Win a prize</h1>')
  })
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => attacker.close(() => resolve())))
  const evilBase = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`
  assert.notEqual(evilBase, app.base)

  const { context, page } = await openContext(t, browser())
  context.setDefaultTimeout(15_000)
  await withScreenshots(t, context, async () => {
    // the victim: signed in, one connected account, its first sync done
    await signUpInPage(page, app.base, PASSWORD, 'victim@example.com')
    await connectThroughPopup(page, 'Allow')
    await page.getByText('Synced @sandbox_creator').waitFor({ timeout: 20_000 })
    await page.waitForLoadState('networkidle')
    const accounts = await app.raw('SELECT id FROM user_social_accounts')
    assert.equal(accounts.length, 1)
    const id = String(accounts[0]?.id)

    const callsBefore = app.emulator.state.calls.length
    const accountsBefore = await count(app, 'user_social_accounts')
    const sessionsBefore = await count(app, 'sessions')
    const logFrom = app.logs.length

    const fetches = [
      `/%61pi/socials/accounts/${id}/sync`,
      `/api/socials/accounts/${id}/sync`,
      '/%61pi/auth/logout',
      '/ap%69/auth/logout',
    ]
    const form = '/%61pi/socials/accounts'
    const targets = [form, ...fetches]

    // what reached the app's server (headers as received)
    const received = new Map<string, IncomingHttpHeaders>()
    app.app.server.on('request', (request: IncomingMessage) => {
      if (request.method === 'POST') received.set(request.url ?? '', request.headers)
    })
    const evil = await context.newPage()
    await evil.goto(`${evilBase}/`)
    await evil.getByText('Win a prize').first().waitFor()
    // the state-changing form first, while the victim is surely signed in; sign-outs last
    await evil.evaluate(
      ({ base, path }) => {
        const sink = document.createElement('iframe')
        sink.name = 'sink'
        document.body.append(sink)
        const f = document.createElement('form')
        f.method = 'POST'
        f.action = base + path
        f.target = 'sink'
        for (const [name, value] of [
          ['platform', 'x'],
          ['username', 'csrf_form'],
        ] as const) {
          const input = document.createElement('input')
          input.name = name
          input.value = value
          f.append(input)
        }
        document.body.append(f)
        f.submit()
      },
      { base: app.base, path: form },
    )
    await waitForCompleted(app, logFrom, [form])
    await evil.evaluate(
      async ({ base, paths }) => {
        for (const path of paths)
          await fetch(base + path, { method: 'POST', credentials: 'include', mode: 'no-cors' })
      },
      { base: app.base, paths: fetches },
    )
    const done = await waitForCompleted(app, logFrom, targets)

    // the app refused every one before any route ran, and nothing changed: the victim is still
    // signed in, no sync called Instagram, no account was added (one diff shows all of it)
    const changed = {
      answers: done.map((c) => `${c.url} -> ${c.status}`),
      me: await page.evaluate(async () => (await fetch('/api/auth/me')).status),
      sessionsRevoked: sessionsBefore - (await count(app, 'sessions')),
      instagramCalls: app.emulator.state.calls.length - callsBefore,
      accountsAdded: (await count(app, 'user_social_accounts')) - accountsBefore,
    }
    assert.deepEqual(
      changed,
      {
        answers: targets.map((p) => `${p} -> 403`),
        me: 200,
        sessionsRevoked: 0,
        instagramCalls: 0,
        accountsAdded: 0,
      },
      'a same-site page changed nothing',
    )
    assert.doesNotMatch(app.logs.slice(logFrom).join('\n'), /csrf_form/)
    // the browser sent them as written, as same-site requests carrying the session cookie
    for (const path of targets) {
      const headers = received.get(path)
      assert.ok(
        headers,
        `the app received POST ${path} as written (got ${[...received.keys()].join(', ')})`,
      )
      assert.equal(headers.origin, evilBase, `${path}: Origin`)
      assert.equal(headers['sec-fetch-site'], 'same-site', `${path}: Sec-Fetch-Site`)
      assert.match(
        headers.cookie ?? '',
        /(^|; )psg_session=/,
        `${path}: the session cookie went along`,
      )
    }
  })
})
