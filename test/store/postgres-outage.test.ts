import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Browser, buildTestApp, connectAccount } from '../helpers/build-app.ts'
import { startEmbeddedPostgres } from '../helpers/postgres.ts'

test(
  'PostgreSQL restarted in the middle of traffic: 503 with the JSON envelope while down, then recovery without restarting the app',
  { timeout: 120_000 },
  async (t) => {
    const server = await startEmbeddedPostgres() // this test's own server: it is stopped below
    t.after(() => server.stop())
    const app = await buildTestApp(t, {}, { postgresUrl: server.url })
    const browser = new Browser(app)
    await browser.register()
    const accountId = await connectAccount(app, browser)
    assert.equal(
      (await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)).statusCode,
      200,
    )
    const accounts = () => browser.fetch('GET', '/api/socials/accounts')
    assert.equal((await accounts()).statusCode, 200)

    await server.pause()
    const down = await accounts()
    assert.equal(down.statusCode, 503)
    assert.deepEqual(Object.keys(down.json<Record<string, unknown>>()), ['error'])
    assert.equal(down.json<{ error: { code: string } }>().error.code, 'ERR_STORE')
    assert.ok(Number(down.headers['retry-after']) > 0)
    assert.doesNotMatch(down.body, /postgres:|password|ECONNREFUSED/, 'no connection details leak')
    const media = await browser.fetch('GET', '/api/socials/media?limit=5')
    assert.equal(media.statusCode, 503)
    const ready = await app.request({ method: 'GET', url: '/readyz' })
    assert.equal(ready.statusCode, 503)
    assert.deepEqual(ready.json(), { status: 'unavailable', database: 'unreachable' })
    assert.equal(
      (await app.request({ method: 'GET', url: '/healthz' })).statusCode,
      200,
      'liveness stays cheap',
    )
    const jobs = await app.app.jobs.runner.runDue().then(
      () => 'ran',
      (error: unknown) => (error as { code?: string }).code,
    )
    assert.equal(jobs, 'ERR_STORE', 'a job pass fails cleanly and the scheduler tries again later')

    await server.resume()
    let recovered = 0
    for (let attempt = 0; attempt < 50 && recovered === 0; attempt++) {
      if ((await accounts()).statusCode === 200) recovered = attempt + 1
      else await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.ok(recovered > 0, 'the same app instance serves again')
    assert.equal((await app.request({ method: 'GET', url: '/readyz' })).statusCode, 200)
    const list = (await browser.fetch('GET', '/api/socials/media?limit=100')).json<{
      items: unknown[]
    }>()
    assert.equal(list.items.length, 48, 'nothing lost')
    assert.equal(
      app.logs.some((line) => line.includes(server.url)),
      false,
      'the URL (with its password) is never logged',
    )
  },
)
