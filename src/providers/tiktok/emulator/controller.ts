/**
 * @module providers/tiktok/emulator/controller — the TikTok emulator's control interface as code
 * (`emulator.control`): add, update, make private and remove videos, revoke a token or every
 * grant of an account, expire access or refresh tokens, deliver TikTok's `authorization.removed`
 * webhook (and retry pending deliveries), queue faults, move the clock, reset, and read the call
 * log and a snapshot. Tests and the sandbox call it in-process; the standalone emulator's HTTP
 * control API (`control.ts`) is a thin layer over it. The app's mounted sandbox exposes none of
 * it over HTTP.
 *
 * Every input is untrusted (`unknown`) and goes through `bounds.ts`; a refused input throws a
 * `ControlError` and changes nothing.
 */
import type { Clock, ManualClock } from '../../../clock.ts'
import type { FetchLike } from '../../types.ts'
import { moveClock } from '../../emulator-core/clock.ts'
import { queueFault } from '../../emulator-core/faults.ts'
import {
  ControlError,
  parseClockMove,
  parseFault,
  parseIndex,
  parseRemovalReason,
  parseVideoFields,
} from './bounds.ts'
import { demoAccounts, makeVideo, videoIdFor } from './demo-data.ts'
import type {
  CallRecord,
  EmulatorVideo,
  Fault,
  TiktokAccount,
  TiktokEmulatorState,
} from './state.ts'
import { authorizationRemovedBody, deliver, retryPending, type DeliveryResult } from './webhook.ts'

export interface AccountSummary {
  readonly index: number
  readonly openId: string
  readonly username: string
  readonly displayName: string
  readonly publicVideos: number
  readonly privateVideos: number
}

export interface TiktokSnapshot {
  readonly accounts: AccountSummary[]
  readonly faults: Fault[]
  readonly calls: number
  readonly codes: number
  readonly grants: number
  readonly pendingWebhooks: number
  readonly now: string
  readonly clientKey: string
  readonly lifetimes: string
  readonly ratePerMinute: number
}

/**
 * The control operations. Inputs are the JSON shapes of the HTTP control API (snake_case), typed
 * `unknown` because they are validated here whoever the caller is.
 */
export interface TiktokEmulatorControl {
  /**
   * A new video at the top of the account's list, created now unless `created_at` says
   * otherwise; `{title?, description?, privacy?, duration_seconds?, width?, height?, created_at?}`.
   */
  addVideo(accountIndex: number, input?: unknown): { id: string }
  /** The same fields, at least one; the list stays newest first. */
  updateVideo(id: string, input: unknown): { id: string }
  /** The video becomes private: it leaves `video/list` and `video/query`. */
  makePrivate(id: string): { id: string }
  /** Deletes a video. */
  removeVideo(id: string): void
  /** Revokes the grant behind an access or refresh token (as `POST /v2/oauth/revoke/` does). */
  revokeToken(token: unknown): { revoked: true }
  /** Revokes every grant of the account issued until now. */
  revokeAccount(accountIndex: number): { revoked: number }
  /** Every access token issued until now answers `access_token_invalid`. */
  expireAccessTokens(): { expired: true }
  /** Every refresh token issued until now answers `invalid_grant`. */
  expireRefreshTokens(): { expired: true }
  /**
   * The person removed the app (or another `reason`, 0-5): every grant of the account is
   * revoked first (TikTok sends the event once the token is already revoked), then the signed
   * `authorization.removed` event is POSTed to the configured webhook URL (409 without one). An
   * answer other than 200 leaves it pending for `retryWebhooks`.
   */
  sendAuthorizationRemoved(
    accountIndex: number,
    reason?: unknown,
  ): Promise<DeliveryResult & { pending: number }>
  /** Retries pending deliveries (those older than 72 hours are discarded). */
  retryWebhooks(): Promise<{ delivered: number; pending: number; discarded: number }>
  addFault(fault: unknown): { faults: number }
  clearFaults(): { faults: 0 }
  /** `{advance_ms}` or `{now}`; only for an emulator on a manual clock (else 409). */
  moveClock(input: unknown): { now: string }
  /** Back to the demo accounts (dated from now): no codes, grants, faults, calls or webhooks. */
  reset(): { ok: true }
  snapshot(): TiktokSnapshot
  /** The recorded calls (paths only, never tokens), oldest first. */
  calls(): CallRecord[]
}

export function createTiktokController(
  state: TiktokEmulatorState,
  clock: Clock | ManualClock,
  fetch: FetchLike | undefined,
): TiktokEmulatorControl {
  const limits = state.limits

  const summary = (a: TiktokAccount): AccountSummary => ({
    index: a.index,
    openId: a.openId,
    username: a.username,
    displayName: a.displayName,
    publicVideos: a.videos.filter((v) => v.privacy === 'public').length,
    privateVideos: a.videos.filter((v) => v.privacy === 'private').length,
  })

  const accountAt = (index: number): TiktokAccount => {
    const account = state.accountByIndex(parseIndex(index))
    if (account === undefined) throw new ControlError(404, 'no such account')
    return account
  }

  const videoAt = (id: unknown) => {
    const found = typeof id === 'string' && id.length <= 32 ? state.findVideo(id) : null
    if (found === null) throw new ControlError(404, 'no such video')
    return found
  }

  /** `seconds`, or the nearest earlier second no other video of the account uses. */
  const freeSecond = (account: TiktokAccount, seconds: number, except?: EmulatorVideo) => {
    const taken = new Set(account.videos.filter((v) => v !== except).map((v) => v.createTime))
    let s = seconds
    while (taken.has(s)) s -= 1
    return s
  }

  const sort = (account: TiktokAccount): void => {
    account.videos.sort((a, b) => b.createTime - a.createTime)
  }

  const webhookTarget = (): { url: string; fetch: FetchLike } => {
    const url = state.settings.webhookUrl
    if (url === null || fetch === undefined)
      throw new ControlError(409, 'no webhook URL (and fetch) configured for this emulator')
    return { url, fetch }
  }

  return {
    addVideo(accountIndex, input) {
      const account = accountAt(accountIndex)
      const fields = parseVideoFields(input, limits, false)
      if (state.totalVideos() >= limits.totalVideos)
        throw new ControlError(400, `the emulator holds at most ${limits.totalVideos} videos`)
      state.addedVideos += 1
      const n = state.addedVideos
      const video = makeVideo({
        id: videoIdFor(`added-${account.openId}-${n}`),
        title: `New video ${n}`,
        hue: (n * 71) % 360,
        ...fields,
        createTime: 0,
      })
      video.createTime = freeSecond(account, fields.createTime ?? Math.floor(clock.now() / 1000))
      account.videos.push(video)
      sort(account)
      return { id: video.id }
    },

    updateVideo(id, input) {
      const { video, account } = videoAt(id)
      const fields = parseVideoFields(input, limits, true)
      Object.assign(video, fields)
      if (fields.createTime !== undefined)
        video.createTime = freeSecond(account, fields.createTime, video)
      sort(account)
      return { id: video.id }
    },

    makePrivate(id) {
      const { video } = videoAt(id)
      video.privacy = 'private'
      return { id: video.id }
    },

    removeVideo(id) {
      const { video, account } = videoAt(id)
      account.videos = account.videos.filter((v) => v !== video)
    },

    revokeToken(token) {
      const claims = typeof token === 'string' ? state.parseToken(token) : null
      if (claims === null) throw new ControlError(404, 'not a token this emulator issued')
      state.revokeGrant(claims.g)
      return { revoked: true }
    },

    revokeAccount(accountIndex) {
      const account = accountAt(accountIndex)
      return { revoked: state.revokeAccount(account.index) }
    },

    expireAccessTokens() {
      state.accessExpiredBefore = clock.now() + 1
      return { expired: true }
    },

    expireRefreshTokens() {
      state.refreshExpiredBefore = clock.now() + 1
      return { expired: true }
    },

    async sendAuthorizationRemoved(accountIndex, reason) {
      const account = accountAt(accountIndex)
      const why = parseRemovalReason(reason)
      const target = webhookTarget()
      if (state.pendingWebhooks.length >= limits.pendingWebhooks)
        throw new ControlError(
          409,
          `at most ${limits.pendingWebhooks} webhook events can be pending; retry them first`,
        )
      state.revokeAccount(account.index)
      const pending = {
        body: authorizationRemovedBody(
          state.settings.clientKey,
          account.openId,
          why,
          Math.floor(clock.now() / 1000),
        ),
        createdAt: clock.now(),
        attempts: 0,
        lastStatus: null,
      }
      const result = await deliver(state, target.fetch, target.url, pending)
      if (!result.delivered) state.pendingWebhooks.push(pending)
      return { ...result, pending: state.pendingWebhooks.length }
    },

    async retryWebhooks() {
      const target = webhookTarget()
      return retryPending(state, target.fetch, target.url)
    },

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
      state.grants.clear()
      state.revokedGrants.clear()
      state.accountRevokedBefore.clear()
      state.rateWindows.clear()
      state.accessExpiredBefore = 0
      state.refreshExpiredBefore = 0
      state.pendingWebhooks = []
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
        grants: state.grants.size,
        pendingWebhooks: state.pendingWebhooks.length,
        now: new Date(clock.now()).toISOString(),
        clientKey: state.settings.clientKey,
        lifetimes: state.settings.lifetimes,
        ratePerMinute: state.settings.ratePerMinute,
      }
    },

    calls() {
      return state.calls.map((c) => ({ ...c }))
    },
  }
}
