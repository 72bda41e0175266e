/**
 * @module providers/youtube/emulator/bounds — the one validation and bounds layer of the YouTube
 * emulator's control operations. The programmatic interface (`emulator.control`, `controller.ts`)
 * and the standalone HTTP control API (`control.ts`) both take their input through these
 * functions: every field type-checked, unknown fields dropped, strings and counts bounded, nothing
 * nested deeper than a few levels, and caps on what the emulator keeps in memory (accounts,
 * videos, faults, codes, revoked grants).
 *
 * A refused input throws a `ControlError` (400, 404 or 409) and changes nothing. The
 * platform-neutral pieces are the shared core's (`emulator-core/control-input.ts`,
 * `emulator-core/clock.ts`), re-exported here.
 */
import { ControlError, field, inputObject } from '../../emulator-core/control-input.ts'
import type { Fault, LiveKind, Privacy, PublishingStatus } from './state.ts'

export {
  ControlError,
  field,
  inputObject,
  parseJsonBody,
} from '../../emulator-core/control-input.ts'
export { parseClockMove } from '../../emulator-core/clock.ts'

/** What the emulator keeps at most, and how large one control input may be. */
export interface YoutubeEmulatorLimits {
  /** Google accounts, the demo accounts included. */
  readonly accounts: number
  /** Videos across all channels. */
  readonly totalVideos: number
  /** `video_count` of one new channel (and never more than what `totalVideos` leaves). */
  readonly videosPerNewChannel: number
  /** Faults queued at once. */
  readonly faults: number
  /** `count` of one fault. */
  readonly faultCount: number
  /** Any string in a fault (`path`). */
  readonly faultString: number
  /** A latency fault's `ms`. */
  readonly latencyMs: number
  /** Authorization codes kept (issued, used or not, and unexpired); the oldest are dropped. */
  readonly codes: number
  /** Revoked grants remembered; past it the oldest revocations are forgotten. */
  readonly revokedGrants: number
  /** A video title (YouTube's own limit: 100 characters). */
  readonly title: number
  /** A video description (YouTube's own limit: 5,000 characters). */
  readonly description: number
  /** Bytes of one JSON body sent to the HTTP control API. */
  readonly bodyBytes: number
  /** Nesting of one input: `{}` is depth 1, `{"a":[]}` depth 2. */
  readonly depth: number
}

export const DEFAULT_LIMITS: YoutubeEmulatorLimits = Object.freeze({
  accounts: 200,
  totalVideos: 50_000,
  videosPerNewChannel: 5_000,
  faults: 100,
  faultCount: 10_000,
  faultString: 500,
  latencyMs: 120_000,
  codes: 10_000,
  revokedGrants: 100_000,
  title: 100,
  description: 5_000,
  bodyBytes: 64 * 1024,
  depth: 4,
})

/** The longest video the control accepts: 12 hours (YouTube's upload limit). */
export const MAX_DURATION_SECONDS = 12 * 3600
/** The most units a quota can be set to. */
export const MAX_QUOTA_UNITS = 100_000_000

const invalid = (message: string): ControlError => new ControlError(400, message)

function integer(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalid(`${name} must be a whole number from ${min} to ${max}`)
  return value
}

function optionalInteger(
  value: unknown,
  name: string,
  min: number,
  max: number,
): number | undefined {
  return value === undefined ? undefined : integer(value, name, min, max)
}

function text(value: unknown, name: string, min: number, max: number): string {
  // characters counted as code points, like YouTube counts them
  if (typeof value !== 'string' || [...value].length < min || [...value].length > max)
    throw invalid(`${name} must be a string of ${min} to ${max} characters`)
  return value
}

function flag(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`${name} must be true or false`)
  return value
}

function isoDate(value: unknown, name: string): number {
  if (typeof value === 'string' && value.length <= 40 && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const at = Date.parse(value)
    if (!Number.isNaN(at) && at >= 0 && at <= 253_402_300_799_999) return at
  }
  throw invalid(`${name} must be an ISO date (2026-05-01T12:00:00Z)`)
}

const PRIVACY: readonly Privacy[] = ['public', 'unlisted', 'private']
const LIVE: readonly LiveKind[] = ['none', 'live', 'upcoming', 'replay']

/** The fields of a video the control can set (all optional; snake_case like the HTTP API). */
export interface VideoFields {
  readonly title?: string
  readonly description?: string
  readonly privacy?: Privacy
  readonly live?: LiveKind
  readonly short?: boolean
  readonly hd?: boolean
  readonly durationSeconds?: number
  readonly publishedAt?: number
}

/**
 * `{title?, description?, privacy?: public|unlisted|private, live?: none|live|upcoming|replay,
 * short?, hd?, duration_seconds?: 0-43200, published_at?: ISO date}`. A Short is at most 180 s.
 */
export function parseVideoFields(
  value: unknown,
  limits: YoutubeEmulatorLimits,
  requireOne: boolean,
): VideoFields {
  const input = inputObject(value, 'a video', limits)
  const out: {
    -readonly [K in keyof VideoFields]: VideoFields[K]
  } = {}
  const title = field(input, 'title')
  if (title !== undefined) out.title = text(title, 'title', 1, limits.title)
  const description = field(input, 'description')
  if (description !== undefined)
    out.description = text(description, 'description', 0, limits.description)
  const privacy = field(input, 'privacy')
  if (privacy !== undefined) {
    const p = PRIVACY.find((x) => x === privacy)
    if (p === undefined) throw invalid('privacy must be public, unlisted or private')
    out.privacy = p
  }
  const live = field(input, 'live')
  if (live !== undefined) {
    const l = LIVE.find((x) => x === live)
    if (l === undefined) throw invalid('live must be none, live, upcoming or replay')
    out.live = l
  }
  const short = field(input, 'short')
  if (short !== undefined) out.short = flag(short, 'short')
  const hd = field(input, 'hd')
  if (hd !== undefined) out.hd = flag(hd, 'hd')
  const duration = optionalInteger(
    field(input, 'duration_seconds'),
    'duration_seconds',
    0,
    MAX_DURATION_SECONDS,
  )
  if (duration !== undefined) out.durationSeconds = duration
  const published = field(input, 'published_at')
  if (published !== undefined) out.publishedAt = isoDate(published, 'published_at')
  if (requireOne && Object.keys(out).length === 0)
    throw invalid(
      'nothing to change: give title, description, privacy, live, short, hd, duration_seconds or published_at',
    )
  if (out.short === true && out.durationSeconds !== undefined && out.durationSeconds > 180)
    throw invalid('a Short lasts at most 180 seconds')
  return out
}

export interface NewAccount {
  readonly name: string
  readonly email: string | null
  /** `null`: a Google account without a YouTube channel. */
  readonly channel: { title: string; handle: string; videoCount: number } | null
}

/**
 * `{name, email?, channel?: {title, handle, video_count?: 0-…} | null}`; `video_count` is bounded
 * by `videosLeft`, what the cap on total videos still allows.
 */
export function parseNewAccount(
  value: unknown,
  videosLeft: number,
  limits: YoutubeEmulatorLimits,
): NewAccount {
  const input = inputObject(value, 'a new account', limits)
  const name = text(field(input, 'name'), 'name', 1, 100)
  const emailRaw = field(input, 'email')
  let email: string | null = null
  if (emailRaw !== undefined) {
    if (
      typeof emailRaw !== 'string' ||
      !/^[A-Za-z0-9._+-]{1,64}@[A-Za-z0-9.-]{1,190}$/.test(emailRaw)
    )
      throw invalid('email must look like name@example.com')
    email = emailRaw
  }
  const channelRaw = field(input, 'channel')
  if (channelRaw === undefined || channelRaw === null) return { name, email, channel: null }
  const channel = inputObject(channelRaw, 'channel', limits)
  const title = text(field(channel, 'title'), 'channel.title', 1, 100)
  const handle = field(channel, 'handle')
  if (typeof handle !== 'string' || !/^[A-Za-z0-9._-]{3,30}$/.test(handle))
    throw invalid('channel.handle must be 3-30 of A-Z a-z 0-9 . _ - (without the @)')
  const max = Math.max(0, Math.min(limits.videosPerNewChannel, videosLeft))
  const count = field(channel, 'video_count') ?? 0
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > max)
    throw invalid(
      `channel.video_count must be a whole number from 0 to ${max} (at most ${limits.videosPerNewChannel} per channel and ${limits.totalVideos} in all)`,
    )
  return { name, email, channel: { title, handle, videoCount: count } }
}

const FAULT_KINDS = 'http_5xx|rate_limit|quota_exceeded|auth_error|bad_request|latency|drop'

/**
 * A fault: `kind` and a positive `count`, an optional `path` (a substring of the request path),
 * and the fields of its kind. Only known fields are kept; every one is type-checked and bounded.
 */
export function parseFault(value: unknown, limits: YoutubeEmulatorLimits): Fault {
  const input = inputObject(value, 'a fault', limits)
  const kind = field(input, 'kind')
  const count = integer(field(input, 'count') ?? 1, 'count', 1, limits.faultCount)
  const rawPath = field(input, 'path')
  const path = rawPath === undefined ? {} : { path: text(rawPath, 'path', 1, limits.faultString) }
  switch (kind) {
    case 'http_5xx': {
      const status = optionalInteger(field(input, 'status'), 'status', 500, 599)
      return { kind, count, ...path, ...(status === undefined ? {} : { status }) }
    }
    case 'rate_limit': {
      const reason = field(input, 'reason') ?? 'rateLimitExceeded'
      if (reason !== 'rateLimitExceeded' && reason !== 'userRateLimitExceeded')
        throw invalid('reason must be rateLimitExceeded or userRateLimitExceeded')
      return { kind, reason, count, ...path }
    }
    case 'quota_exceeded':
    case 'auth_error':
    case 'bad_request':
    case 'drop':
      return { kind, count, ...path }
    case 'latency':
      return { kind, ms: integer(field(input, 'ms'), 'ms', 0, limits.latencyMs), count, ...path }
    default:
      throw invalid(`fault needs kind (${FAULT_KINDS}) and a positive count`)
  }
}

export function parsePublishingStatus(value: unknown): PublishingStatus {
  if (value !== 'testing' && value !== 'production')
    throw invalid('publishing status must be testing or production')
  return value
}

export function parseQuotaUnits(value: unknown, name: string): number {
  return integer(value, name, 0, MAX_QUOTA_UNITS)
}

/** An account index: a positive whole number. */
export function parseIndex(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new ControlError(404, 'no such account')
  return value
}
