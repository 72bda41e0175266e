/**
 * Benchmark (issue 14): YouTube's daily quota. The service against its YouTube emulator, in this
 * process, on a movable clock.
 *
 * 1. Quota units of a full sync of a channel of N videos (goal 1 + 2·⌈N/50⌉: channels, then a
 *    playlist page and a details call per 50) and of an unchanged routine sync (goal 2).
 * 2. Many unchanged channels (10,000; 1,000 quick) on the default quota (10,000 units a day; the
 *    same ratio quick) over 5 emulated days, all due at the start: `quotaExceeded` answers (goal
 *    0), the most any Pacific day spent (goal ≤ 80 %: the reserve intact every day), and the
 *    longest gap between two syncs of one channel against the lower bound the quota allows,
 *    accounts × 2 units ÷ 8,000 usable units a day = 2.5 days (goal ≤ 1.1×, never 30 days).
 */
import { randomBytes } from 'node:crypto'
import BetterSqlite3 from 'better-sqlite3'
import { createManualClock } from '../src/clock.ts'
import { sealCredentials } from '../src/socials/credentials.ts'
import { dayAt } from '../src/socials/budget-windows.ts'
import { QUOTA_TIME_ZONE } from '../src/providers/youtube/parse.ts'
import { YOUTUBE_READONLY_SCOPE } from '../src/providers/youtube/config.ts'
import { Browser, connectYoutube } from '../test/helpers/build-app.ts'
import { QUICK, benchApp, fmt, line } from './lib.ts'

const DAY = 86_400_000
const MINUTE = 60_000
/** How often the emulated scheduler runs (the service's default is every minute). */
const TICK_MS = 10 * MINUTE
const DAYS = 5

export async function youtubeQuotaBenchmark(): Promise<void> {
  await unitsPerSync()
  await manyChannels(QUICK ? 1_000 : 10_000)
}

async function unitsPerSync(): Promise<void> {
  const clock = createManualClock(Date.UTC(2026, 11, 1, 20))
  const bench = await benchApp({ clock })
  try {
    const { youtube, asTestApp, app } = bench
    const videos = 230
    const channel = youtube.state.accountByIndex(1)?.channel
    if (channel === null || channel === undefined) throw new Error('no demo channel')
    for (let i = channel.videos.length; i < videos; i++)
      youtube.control.addVideo(1, { duration_seconds: 300 + i })
    const owner = new Browser(asTestApp)
    await owner.register()
    const id = await connectYoutube(asTestApp, owner)
    const used = () => youtube.control.quota().used
    let before = used()
    const full = await owner.fetch('POST', `/api/socials/accounts/${id}/sync`)
    if (full.statusCode !== 200) throw new Error(`sync failed: ${full.body}`)
    const fullUnits = used() - before
    const goal = 1 + 2 * Math.ceil(videos / 50)
    line('youtube: full sync of a 230-video channel (quota units)', `${fullUnits} units`, {
      text: `= 1 + 2·⌈N/50⌉ = ${goal}`,
      met: fullUnits === goal,
    })
    clock.advance(2 * 3_600_000)
    before = used()
    const pass = await app.jobs.runner.runDue()
    const unchanged = used() - before
    line(
      'youtube: unchanged channel, scheduled sync (quota units)',
      `${unchanged} units (${pass.syncs.synced} sync)`,
      { text: '= 2', met: pass.syncs.synced === 1 && unchanged === 2 },
    )
  } finally {
    await bench.close()
  }
}

async function manyChannels(accounts: number): Promise<void> {
  // the default quota for 10,000 channels; the same ratio for a quick run
  const quota = accounts
  const clock = createManualClock(Date.UTC(2026, 11, 1, 8, 30))
  const bench = await benchApp({ clock, env: { YOUTUBE_DAILY_QUOTA_UNITS: String(quota) } })
  const started = performance.now()
  try {
    const { youtube, store, vault, app } = bench
    youtube.control.setQuota({ daily_limit: quota })
    // the small demo channel ("Demo Studio", 4 videos): every account shows it, already synced
    const index = 3
    const channel = youtube.state.accountByIndex(index)?.channel
    if (channel === null || channel === undefined) throw new Error('no studio channel')
    const now = clock.now()
    const owners = new Map<string, string>()
    for (let i = 0; i < accounts; i++) {
      const user = await store.createUser({
        email: `yt-${i}-${randomBytes(3).toString('hex')}@example.com`,
        password_hash: 'none',
        now,
      })
      const grant = randomBytes(12).toString('base64url')
      const scopes = [YOUTUBE_READONLY_SCOPE]
      const { account } = await store.upsertOAuthAccount({
        user_id: user.id,
        platform: 'youtube',
        username: `channel${i}`,
        platform_user_id: `UC${String(i).padStart(22, '0')}`,
        platform_scoped_id: null,
        platform_attributes: {},
        credentials: sealCredentials(vault, {
          accessToken: youtube.state.issueToken('a', index, grant, scopes),
          accessTokenExpiresAt: now + 3_600_000,
          refreshToken: youtube.state.issueToken('r', index, grant, scopes),
          refreshTokenExpiresAt: null,
          scopes,
          issuedAt: now,
          refreshTokenIssuedAt: now,
        }),
        posts_count: channel.videos.length,
        profile_url: `https://www.youtube.com/@channel${i}`,
        profile_picture_url: null,
        now,
      })
      owners.set(account.id, user.id)
    }
    // every channel synced once before the run: its videos stored, its last full sync done
    const media = channel.videos.map((video) => ({
      platform_media_id: video.id,
      media_type: 'VIDEO' as const,
      media_product_type: 'VIDEO',
      media_url: null,
      thumbnail_url: null,
      permalink: `https://www.youtube.com/watch?v=${video.id}`,
      caption: video.title,
      timestamp: video.publishedAt,
      url_expires_at: null,
      duration_seconds: video.durationSeconds,
      visibility: video.privacy,
      children: [],
    }))
    for (const [id, userId] of owners) {
      await store.upsertMediaPage({ id, user_id: userId }, 'seed', media, now)
      await store.updateAccount(id, {
        last_full_sync: now,
        last_sync: now,
        next_sync_at: now,
        now,
      })
    }
    const seedMs = performance.now() - started
    // the run: all due now; the scheduler every 10 minutes for 5 days
    youtube.control.setQuota({ used: 0 })
    let calls = 0
    const lastSync = new Map<string, number>()
    const gaps: number[] = []
    let longest = 0
    const perDay = new Map<number, number>()
    let exceeded = 0
    let syncs = 0
    const simStart = clock.now()
    const runStarted = performance.now()
    if (bench.config.database.kind !== 'sqlite')
      throw new Error('the quota benchmark runs on SQLite')
    const reader = new BetterSqlite3(bench.config.database.path, { readonly: true })
    const syncTimes = reader.prepare(
      "SELECT id, last_sync FROM user_social_accounts WHERE platform = 'youtube'",
    )
    while (clock.now() < simStart + DAYS * DAY) {
      const tickStart = clock.now()
      const report = await app.jobs.runner.runDue()
      // the emulator's newest calls (its log is bounded): this tick's, from the end
      const log = youtube.control.calls()
      for (let i = log.length - 1; i >= 0; i--) {
        const call = log[i]
        if (call === undefined || call.at < tickStart) break
        calls++
        if (call.status === 403) exceeded++
      }
      syncs += report.syncs.synced
      const day = dayAt(QUOTA_TIME_ZONE, clock.now()).start
      perDay.set(day, Math.max(perDay.get(day) ?? 0, youtube.control.quota().used))
      for (const row of syncTimes.all() as { id: string; last_sync: number | null }[]) {
        if (row.last_sync === null || row.last_sync < simStart) continue
        const previous = lastSync.get(row.id)
        if (previous !== undefined && row.last_sync > previous) {
          gaps.push(row.last_sync - previous)
          longest = Math.max(longest, row.last_sync - previous)
        }
        lastSync.set(row.id, row.last_sync)
      }
      clock.advance(TICK_MS)
    }
    reader.close()
    const runMs = performance.now() - runStarted
    const maxDay = Math.max(...perDay.values())
    const bound = (accounts * 2 * DAY) / (quota * 0.8)
    const ratio = longest / bound
    line(
      `youtube: ${fmt(accounts)} unchanged channels over ${DAYS} days, quotaExceeded answers`,
      `${exceeded} (${fmt(syncs)} syncs, ${fmt(calls)} calls; ${fmt(seedMs / 1000, 1)} s to seed, ${fmt(runMs / 1000, 1)} s to run)`,
      { text: '= 0', met: exceeded === 0 },
    )
    line(
      'youtube: the most units one Pacific day spent',
      `${fmt(maxDay)} of ${fmt(quota)} (${fmt((100 * maxDay) / quota, 1)} %) over ${perDay.size} days`,
      { text: '≤ 80 % (reserve intact)', met: maxDay <= quota * 0.8 },
    )
    line(
      'youtube: longest gap between two syncs of one channel',
      `${fmt(longest / DAY, 2)} days vs bound ${fmt(bound / DAY, 2)} days = ${fmt(ratio, 3)}× (${fmt(gaps.length)} gaps)`,
      { text: '≤ 1.1×, < 30 days', met: gaps.length > 0 && ratio <= 1.1 && longest < 30 * DAY },
    )
  } finally {
    await bench.close()
  }
}
