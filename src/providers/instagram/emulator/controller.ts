/**
 * @module providers/instagram/emulator/controller — the emulator's control interface as code
 * (`emulator.control`): add users, publish, edit and delete posts, invalidate tokens, queue faults,
 * move the clock, change settings, reset, and read a snapshot. Tests and scripts call it directly;
 * the standalone emulator's HTTP control API (`control.ts`) is a thin layer over it. The app's
 * mounted sandbox exposes none of it over HTTP.
 *
 * Every input is untrusted (`unknown`) and goes through `bounds.ts`, the one validation and
 * bounds layer; a refused input throws a `ControlError` and changes nothing.
 */
import type { Clock, ManualClock } from '../../../clock.ts'
import { moveClock } from '../../emulator-core/clock.ts'
import { queueFault } from '../../emulator-core/faults.ts'
import { demoUsers, generateMedia, instagramUserId, scopedUserId } from './demo-data.ts'
import {
  ControlError,
  parseClockMove,
  parseFault,
  parseMediaEdit,
  parseNewPost,
  parseNewUser,
  parseSettingsChange,
  parseSubcode,
} from './bounds.ts'
import type {
  CallRecord,
  EmulatorAccountType,
  EmulatorMedia,
  EmulatorState,
  EmulatorUser,
  Fault,
} from './state.ts'

/** A user as the control interface shows it. */
export interface UserSummary {
  readonly index: number
  readonly id: string
  readonly user_id: string
  readonly username: string
  readonly account_type: EmulatorAccountType
  readonly media_count: number
}

/** What `snapshot()` (and `GET /_control/state`) shows of the emulator's world. */
export interface EmulatorSnapshot {
  readonly users: UserSummary[]
  readonly faults: Fault[]
  /** Graph and token calls recorded (the newest 50,000 are kept). */
  readonly calls: number
  /** Authorization codes held (unexpired, used or not). */
  readonly codes: number
  readonly now: string
  readonly settings: {
    readonly token_response_shape: 'flat' | 'wrapped'
    readonly calls_per_hour_per_user: number
    readonly latency_ms: number
    readonly cdn_ttl_ms: number
  }
}

/**
 * The control operations. Inputs are the JSON shapes of the HTTP control API (snake_case), typed
 * `unknown` because they are validated here whoever the caller is.
 */
export interface EmulatorControl {
  /** `{username, account_type?: BUSINESS|MEDIA_CREATOR|PERSONAL, media_count?: 0-10000}`. */
  addUser(input: unknown): UserSummary
  /** A new post, newest first, timestamped now; `{caption?}` (≤ 2,200 characters, or null). */
  publish(userIndex: number, input?: unknown): { id: string }
  /** `{caption}` (a string of ≤ 2,200 characters, or null) on any post or album child. */
  editMedia(id: string, input: unknown): { id: string }
  /** Removes a top-level post. */
  deleteMedia(id: string): void
  /** Tokens of this user issued until now answer 190 with `subcode` (default 460). */
  invalidate(userIndex: number, subcode?: unknown): { invalidated: number; subcode: number }
  /** Queues a fault (see `Fault`); returns how many are queued. */
  addFault(fault: unknown): { faults: number }
  clearFaults(): { faults: 0 }
  /** `{advance_ms}` or `{now}`; only for an emulator on a manual clock (else 409). */
  moveClock(input: unknown): { now: string }
  /** `{token_response_shape?, latency_ms?, calls_per_hour_per_user?}`. */
  updateSettings(input: unknown): { ok: true }
  /** Back to the demo accounts: no codes, invalidations, faults or recorded calls. */
  reset(): { ok: true }
  snapshot(): EmulatorSnapshot
  /** The recorded Graph and token calls (paths only, never tokens), oldest first. */
  calls(): CallRecord[]
}

/** Published posts are numbered from here, clear of the generated media of any user. */
const PUBLISHED_BASE = 90_000

export function createController(
  state: EmulatorState,
  clock: Clock | ManualClock,
): EmulatorControl {
  const limits = state.limits
  const notFound = (what: string): ControlError => new ControlError(404, `no such ${what}`)

  const summary = (user: EmulatorUser): UserSummary => ({
    index: user.index,
    id: user.id,
    user_id: user.user_id,
    username: user.username,
    account_type: user.account_type,
    media_count: user.media.length,
  })
  const totalMedia = (): number => state.users.reduce((n, u) => n + u.media.length, 0)
  const userAt = (userIndex: number): EmulatorUser => {
    const user = Number.isSafeInteger(userIndex) ? state.userByIndex(userIndex) : undefined
    if (user === undefined) throw notFound('user')
    return user
  }

  return {
    addUser(input) {
      if (state.users.length >= limits.users)
        throw new ControlError(400, `the emulator holds at most ${limits.users} users`)
      const wanted = parseNewUser(input, limits.totalMedia - totalMedia(), limits)
      if (state.users.some((u) => u.username === wanted.username))
        throw new ControlError(409, 'username taken')
      const index = Math.max(0, ...state.users.map((u) => u.index)) + 1
      const user: EmulatorUser = {
        index,
        id: scopedUserId(index),
        user_id: instagramUserId(index),
        username: wanted.username,
        name: wanted.username,
        account_type: wanted.account_type,
        followers_count: 100,
        follows_count: 10,
        media: generateMedia(index, wanted.username, wanted.media_count),
      }
      state.users.push(user)
      return summary(user)
    },

    publish(userIndex, input) {
      const user = userAt(userIndex)
      const { caption } = parseNewPost(input, limits)
      if (totalMedia() >= limits.totalMedia)
        throw new ControlError(400, `the emulator holds at most ${limits.totalMedia} media`)
      // generated at a number no other post had (album children are numbered from it too)
      const n = PUBLISHED_BASE + state.publishedMedia + 1
      const [generated] = generateMedia(user.index, user.username, 1, n)
      if (generated === undefined) throw new Error('emulator: could not generate a post')
      state.publishedMedia += 1
      const item: EmulatorMedia = {
        ...generated,
        timestamp: clock.now(),
        caption: caption === undefined ? generated.caption : caption,
      }
      user.media.unshift(item)
      return { id: item.id }
    },

    editMedia(id, input) {
      const found = state.findMedia(id)
      if (found === null) throw notFound('media')
      const { caption } = parseMediaEdit(input, limits)
      found.media.caption = caption
      return { id: found.media.id }
    },

    deleteMedia(id) {
      const found = state.findMedia(id)
      if (found === null || found.parent !== null) throw notFound('top-level media')
      found.owner.media = found.owner.media.filter((m) => m.id !== found.media.id)
    },

    invalidate(userIndex, subcode) {
      const user = userAt(userIndex)
      const code = parseSubcode(subcode)
      state.invalidations.set(user.index, { before: clock.now() + 1, subcode: code })
      return { invalidated: user.index, subcode: code }
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

    updateSettings(input) {
      const change = parseSettingsChange(input, limits)
      state.settings = { ...state.settings, ...change }
      return { ok: true }
    },

    reset() {
      state.users = demoUsers()
      state.codes.clear()
      state.invalidations.clear()
      state.faults = []
      state.calls = []
      return { ok: true }
    },

    snapshot() {
      return {
        users: state.users.map(summary),
        faults: state.faults.map((f) => ({ ...f })),
        calls: state.calls.length,
        codes: state.codes.size,
        now: new Date(clock.now()).toISOString(),
        settings: {
          token_response_shape: state.settings.tokenResponseShape,
          calls_per_hour_per_user: state.settings.callsPerHourPerUser,
          latency_ms: state.settings.latencyMs,
          cdn_ttl_ms: state.settings.cdnTtlMs,
        },
      }
    },

    calls() {
      return state.calls.map((c) => ({ ...c }))
    },
  }
}
