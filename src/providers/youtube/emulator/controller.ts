/**
 * @module providers/youtube/emulator/controller — the YouTube emulator's control interface as code
 * (`emulator.control`): add Google accounts (with or without a channel), add, update and remove
 * videos, revoke a grant or all grants of an account, expire access tokens, set the project's
 * publishing status, read and set the day's quota, queue faults, move the clock, reset, and read
 * the call log and a snapshot. Tests and the sandbox call it in-process; the standalone
 * emulator's HTTP control API (`control.ts`) is a thin layer over it. The app's mounted sandbox
 * exposes none of it over HTTP.
 *
 * Every input is untrusted (`unknown`) and goes through `bounds.ts`; a refused input throws a
 * `ControlError` and changes nothing.
 */
import { dayAt } from '../../../socials/budget-windows.ts'
import type { Clock, ManualClock } from '../../../clock.ts'
import { moveClock } from '../../emulator-core/clock.ts'
import { queueFault } from '../../emulator-core/faults.ts'
import {
  ControlError,
  field,
  inputObject,
  parseClockMove,
  parseFault,
  parseIndex,
  parseNewAccount,
  parsePublishingStatus,
  parseQuotaUnits,
  parseVideoFields,
} from './bounds.ts'
import { demoAccounts, makeChannel, makeVideo, uploadsPlaylistId, videoId } from './demo-data.ts'
import {
  QUOTA_TIME_ZONE,
  type CallRecord,
  type EmulatorVideo,
  type Fault,
  type GoogleAccount,
  type PublishingStatus,
  type YoutubeEmulatorState,
} from './state.ts'

export interface AccountSummary {
  readonly index: number
  readonly email: string
  readonly name: string
  readonly channel: {
    readonly id: string
    readonly title: string
    readonly customUrl: string
    readonly uploadsPlaylistId: string
    readonly videoCount: number
  } | null
}

export interface QuotaUsage {
  /** Units used in the current Pacific day. */
  readonly used: number
  readonly limit: number
  /** When the current day's quota resets (next midnight America/Los_Angeles), ISO. */
  readonly resetsAt: string
}

export interface YoutubeSnapshot {
  readonly accounts: AccountSummary[]
  readonly faults: Fault[]
  /** Calls recorded (the newest 50,000 are kept). */
  readonly calls: number
  /** Authorization codes held (unexpired, used or not). */
  readonly codes: number
  readonly now: string
  readonly clientId: string
  readonly publishingStatus: PublishingStatus
  readonly quota: QuotaUsage
}

/**
 * The control operations. Inputs are the JSON shapes of the HTTP control API (snake_case), typed
 * `unknown` because they are validated here whoever the caller is.
 */
export interface YoutubeEmulatorControl {
  /** `{name, email?, channel?: {title, handle, video_count?} | null}`. */
  addAccount(input: unknown): AccountSummary
  /**
   * A new video at the top of the account's uploads, published now unless `published_at` says
   * otherwise; `{title?, description?, privacy?, live?, short?, hd?, duration_seconds?,
   * published_at?}`. 409 for an account without a channel.
   */
  addVideo(accountIndex: number, input?: unknown): { id: string }
  /** The same fields, at least one; the uploads stay newest first. */
  updateVideo(id: string, input: unknown): { id: string }
  /** Deletes a video: it leaves the uploads and `videos.list`. */
  removeVideo(id: string): void
  /** Revokes the grant behind an access or refresh token (as `POST /revoke` does). */
  revokeToken(token: unknown): { revoked: true }
  /** Revokes every grant of the account issued until now; its next consent is a first one. */
  revokeAccount(accountIndex: number): { revoked: number }
  /** Every access token issued until now answers 401 as expired (refresh tokens stay valid). */
  expireAccessTokens(): { expired: true }
  /** `testing` (refresh tokens issued from now on die after 7 days) or `production`. */
  setPublishingStatus(status: unknown): { publishingStatus: PublishingStatus }
  /** `{used?, daily_limit?}`: units used today, and the project's daily quota. */
  setQuota(input: unknown): QuotaUsage
  quota(): QuotaUsage
  /** Queues a fault (see `Fault`); returns how many are queued. */
  addFault(fault: unknown): { faults: number }
  clearFaults(): { faults: 0 }
  /** `{advance_ms}` or `{now}`; only for an emulator on a manual clock (else 409). */
  moveClock(input: unknown): { now: string }
  /** Back to the demo accounts (dated from now): no codes, grants, faults, calls or quota used. */
  reset(): { ok: true }
  snapshot(): YoutubeSnapshot
  /** The recorded calls (paths only, never tokens), oldest first. */
  calls(): CallRecord[]
}

const DAY_MS = 86_400_000

export function createYoutubeController(
  state: YoutubeEmulatorState,
  clock: Clock | ManualClock,
): YoutubeEmulatorControl {
  const limits = state.limits

  const summary = (a: GoogleAccount): AccountSummary => ({
    index: a.index,
    email: a.email,
    name: a.name,
    channel:
      a.channel === null
        ? null
        : {
            id: a.channel.id,
            title: a.channel.title,
            customUrl: a.channel.customUrl,
            uploadsPlaylistId: uploadsPlaylistId(a.channel.id),
            videoCount: a.channel.videos.length,
          },
  })

  const accountAt = (index: number): GoogleAccount => {
    const account = state.accountByIndex(parseIndex(index))
    if (account === undefined) throw new ControlError(404, 'no such account')
    return account
  }

  const videoAt = (id: unknown) => {
    const found = typeof id === 'string' && id.length <= 64 ? state.findVideo(id) : null
    if (found === null || found.account.channel === null)
      throw new ControlError(404, 'no such video')
    return { video: found.video, channel: found.account.channel }
  }

  const sortUploads = (videos: EmulatorVideo[]): void => {
    videos.sort((a, b) => b.publishedAt - a.publishedAt)
  }

  const quota = (): QuotaUsage => ({
    used: state.quotaUsedToday(),
    limit: state.settings.dailyQuotaUnits,
    resetsAt: new Date(dayAt(QUOTA_TIME_ZONE, clock.now()).end).toISOString(),
  })

  /** Generated videos of a new channel: every third day back from now, every fifth a Short. */
  const generated = (label: string, count: number): EmulatorVideo[] =>
    Array.from({ length: count }, (_, i) => {
      const short = i % 5 === 4
      return makeVideo({
        id: videoId(`${label}-${i}`),
        title: short ? `Short ${count - i} #shorts` : `Video ${count - i}`,
        publishedAt: clock.now() - (i * 3 + 1) * DAY_MS,
        durationSeconds: short ? 20 + (i % 40) : 120 + ((i * 97) % 1800),
        short,
        hd: !short && i % 2 === 0,
        hue: (i * 53) % 360,
      })
    })

  return {
    addAccount(input) {
      if (state.accounts.length >= limits.accounts)
        throw new ControlError(400, `the emulator holds at most ${limits.accounts} accounts`)
      const wanted = parseNewAccount(input, limits.totalVideos - state.totalVideos(), limits)
      const index = Math.max(0, ...state.accounts.map((a) => a.index)) + 1
      const email = wanted.email ?? `account${index}@example.com`
      if (state.accounts.some((a) => a.email === email)) throw new ControlError(409, 'email taken')
      const handle = wanted.channel?.handle
      if (
        handle !== undefined &&
        state.accounts.some(
          (a) => a.channel?.customUrl.toLowerCase() === `@${handle.toLowerCase()}`,
        )
      )
        throw new ControlError(409, 'handle taken')
      const label = `account-${index}-${email}`
      const account: GoogleAccount = {
        index,
        email,
        name: wanted.name,
        channel:
          wanted.channel === null
            ? null
            : makeChannel(
                label,
                wanted.channel.title,
                wanted.channel.handle,
                clock.now() - 400 * DAY_MS,
                generated(label, wanted.channel.videoCount),
                (index * 67) % 360,
              ),
      }
      if (account.channel !== null && state.channelById(account.channel.id) !== undefined)
        throw new ControlError(409, 'channel id taken')
      state.accounts.push(account)
      return summary(account)
    },

    addVideo(accountIndex, input) {
      const account = accountAt(accountIndex)
      const fields = parseVideoFields(input, limits, false)
      if (account.channel === null)
        throw new ControlError(409, 'this Google account has no YouTube channel')
      if (state.totalVideos() >= limits.totalVideos)
        throw new ControlError(400, `the emulator holds at most ${limits.totalVideos} videos`)
      state.addedVideos += 1
      const n = state.addedVideos
      const video = makeVideo({
        id: videoId(`added-${account.channel.id}-${n}`),
        title: `New video ${n}`,
        publishedAt: clock.now(),
        hue: (n * 71) % 360,
        ...fields,
      })
      if (video.short && video.durationSeconds > 180) video.durationSeconds = 59
      if (video.live === 'replay' && video.actualStart === null) {
        video.actualStart = video.publishedAt
        video.actualEnd = video.publishedAt + video.durationSeconds * 1000
      }
      account.channel.videos.push(video)
      sortUploads(account.channel.videos)
      return { id: video.id }
    },

    updateVideo(id, input) {
      const { video, channel } = videoAt(id)
      const fields = parseVideoFields(input, limits, true)
      const next = { ...video, ...fields }
      if (next.short && next.durationSeconds > 180)
        throw new ControlError(400, 'a Short lasts at most 180 seconds')
      Object.assign(video, fields)
      if (fields.live === 'replay' && video.actualStart === null) {
        video.actualStart = video.publishedAt
        video.actualEnd = video.publishedAt + video.durationSeconds * 1000
      }
      sortUploads(channel.videos)
      return { id: video.id }
    },

    removeVideo(id) {
      const { video, channel } = videoAt(id)
      channel.videos = channel.videos.filter((v) => v !== video)
    },

    revokeToken(token) {
      const claims = typeof token === 'string' ? state.parseToken(token) : null
      if (claims === null) throw new ControlError(404, 'not a token this emulator issued')
      state.revokeGrant(claims.g, claims.a)
      return { revoked: true }
    },

    revokeAccount(accountIndex) {
      const account = accountAt(accountIndex)
      state.revokeAccount(account.index)
      return { revoked: account.index }
    },

    expireAccessTokens() {
      state.accessExpiredBefore = clock.now() + 1
      return { expired: true }
    },

    setPublishingStatus(status) {
      const publishingStatus = parsePublishingStatus(status)
      state.settings = { ...state.settings, publishingStatus }
      return { publishingStatus }
    },

    setQuota(input) {
      const body = inputObject(input, 'a quota change', limits)
      const used = field(body, 'used')
      const limit = field(body, 'daily_limit')
      if (used === undefined && limit === undefined)
        throw new ControlError(400, 'nothing to change: give used or daily_limit')
      const usedUnits = used === undefined ? undefined : parseQuotaUnits(used, 'used')
      const limitUnits = limit === undefined ? undefined : parseQuotaUnits(limit, 'daily_limit')
      if (limitUnits !== undefined && limitUnits < 1)
        throw new ControlError(400, 'daily_limit must be a whole number from 1 to 100000000')
      if (usedUnits !== undefined) state.setQuotaUsed(usedUnits)
      if (limitUnits !== undefined)
        state.settings = { ...state.settings, dailyQuotaUnits: limitUnits }
      return quota()
    },

    quota,

    addFault(input) {
      const fault = parseFault(input, limits)
      return { faults: queueFault(state.faults, fault, limits.faults) }
    },

    clearFaults() {
      state.faults = []
      return { faults: 0 }
    },

    moveClock(input) {
      const move = parseClockMove(input, limits)
      return { now: new Date(moveClock(clock, move)).toISOString() }
    },

    reset() {
      state.accounts = demoAccounts(clock.now())
      state.codes.clear()
      state.revokedGrants.clear()
      state.accountRevokedBefore.clear()
      state.consented.clear()
      state.accessExpiredBefore = 0
      state.setQuotaUsed(0)
      state.faults = []
      state.calls = []
      return { ok: true }
    },

    snapshot() {
      return {
        accounts: state.accounts.map(summary),
        faults: state.faults.map((f) => ({ ...f })),
        calls: state.calls.length,
        codes: state.codes.size,
        now: new Date(clock.now()).toISOString(),
        clientId: state.settings.clientId,
        publishingStatus: state.settings.publishingStatus,
        quota: quota(),
      }
    },

    calls() {
      return state.calls.map((c) => ({ ...c }))
    },
  }
}
