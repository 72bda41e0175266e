/**
 * Benchmark 2 (sync efficiency): the service against its Instagram emulator with 50 ms added to
 * every call, in this process. Graph calls of a full sync of 1,000 media (albums among them)
 * against the minimum, ⌈N / page size⌉ + 1 profile call; calls of an unchanged account's
 * routine sync (≤ 2); and many accounts synced by one job pass at the configured concurrency C,
 * against the lower bound ⌈accounts / C⌉ × calls per account × latency (goal ≤ 1.25×).
 */
import { Browser, connectAccount } from '../test/helpers/build-app.ts'
import { QUICK, addEmulatorUser, benchApp, fmt, line, seedConnectedAccount } from './lib.ts'

const LATENCY_MS = 50

export async function syncBenchmark(): Promise<void> {
  const bench = await benchApp({})
  const { app, emulator, asTestApp, config } = bench
  const setLatency = (ms: number): void => {
    emulator.state.settings = { ...emulator.state.settings, latencyMs: ms }
  }
  try {
    // 1. a full sync of 1,000 media
    await addEmulatorUser(emulator, 100, 1_000)
    const owner = new Browser(asTestApp)
    await owner.register()
    const accountId = await connectAccount(asTestApp, owner, 100)
    setLatency(LATENCY_MS)
    let started = performance.now()
    const full = await owner.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
    const fullMs = performance.now() - started
    if (full.statusCode !== 200) throw new Error(`sync failed: ${full.body}`)
    const report = full.json<{ added: number; api_calls: number }>()
    const minimum = Math.ceil(1_000 / config.providers.instagram.settings.mediaPageSize) + 1
    line(
      'sync: full sync of 1,000 media (Graph calls)',
      `${report.api_calls} calls for ${fmt(report.added)} media (minimum ${minimum} = ⌈1,000 / ${config.providers.instagram.settings.mediaPageSize}⌉ + 1) in ${fmt(fullMs)} ms at ${LATENCY_MS} ms a call`,
      { text: `= ${minimum}`, met: report.api_calls === minimum },
    )

    // 2. the same account, unchanged, at its next scheduled (incremental) sync
    await bench.store.updateAccount(accountId, { next_sync_at: Date.now() - 1, now: Date.now() })
    const pass = await app.jobs.runner.runDue()
    line('sync: unchanged account, scheduled sync (Graph calls)', `${pass.syncs.api_calls} calls`, {
      text: '≤ 2',
      met: pass.syncs.synced === 1 && pass.syncs.api_calls <= 2,
    })

    // 3. many accounts, one job pass, C at a time
    const accounts = QUICK ? 100 : 1_000
    const concurrency = config.jobs.syncConcurrency
    for (let i = 0; i < accounts; i++) {
      await addEmulatorUser(emulator, 1_000 + i, 12)
      await seedConnectedAccount(bench, 1_000 + i)
    }
    // the big account is not due; every new one is (never synced)
    await bench.store.updateAccount(accountId, {
      next_sync_at: Date.now() + 86_400_000,
      now: Date.now(),
    })
    setLatency(LATENCY_MS)
    started = performance.now()
    const many = await app.jobs.runner.runDue()
    const wallMs = performance.now() - started
    const perAccount = many.syncs.api_calls / Math.max(1, many.syncs.synced)
    const bound = Math.ceil(accounts / concurrency) * perAccount * LATENCY_MS
    line(
      `sync: ${fmt(accounts)} accounts, one job pass at concurrency ${concurrency}`,
      `${fmt(many.syncs.synced)} synced, ${fmt(many.syncs.api_calls)} calls (${perAccount.toFixed(1)} per account) in ${fmt(wallMs)} ms; lower bound ⌈${accounts} / ${concurrency}⌉ × ${perAccount.toFixed(1)} × ${LATENCY_MS} ms = ${fmt(bound)} ms; ratio ${(wallMs / bound).toFixed(2)}`,
      { text: '≤ 1.25×', met: many.syncs.synced === accounts && wallMs / bound <= 1.25 },
    )
  } finally {
    await bench.close()
  }
}
