/**
 * Closing the app while a browser's request is in flight: the answer ends its keep-alive
 * connection, so `close()` completes (it used to wait for the browser to drop the connection —
 * in a browser test, forever, since the browser is closed after the app).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { serveTestApp } from '../helpers/browser.ts'
import { HttpAgent } from '../helpers/http-agent.ts'

test('the app closes while a long request (a sync calling the sandbox) is in flight', async (t) => {
  const app = await serveTestApp(t)
  const owner = new HttpAgent(app.base)
  await owner.register('closing@example.com', 'correct horse battery staple')
  const landing = await owner.send('GET', await owner.consent(await owner.startConnect()))
  const accountId = new URL(String(landing.location), app.base).searchParams.get('account')
  assert.ok(accountId !== null, String(landing.location))
  // every emulator call now takes 300 ms: a full sync is several of them
  app.emulator.state.settings = { ...app.emulator.state.settings, latencyMs: 300 }
  const sync = owner.send('POST', `/api/socials/accounts/${accountId}/sync`).then(
    (answer) => answer.status,
    () => 0,
  )
  await new Promise((resolve) => setTimeout(resolve, 450)) // inside the second call
  const closed = app.app.close().then(() => 'closed')
  const outcome = await Promise.race([
    closed,
    new Promise((resolve) => setTimeout(() => resolve('still closing after 10 s'), 10_000)),
  ])
  assert.equal(outcome, 'closed')
  const status = await sync
  assert.ok(status > 0, 'the request in flight got its answer')
})
