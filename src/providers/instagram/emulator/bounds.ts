/**
 * @module providers/instagram/emulator/bounds — the one validation and bounds layer of the
 * emulator's control operations. The programmatic interface (`emulator.control`, `controller.ts`)
 * and the standalone HTTP control API (`control.ts`) both take their input through these functions,
 * so a test, a script and an HTTP client meet the same rules: every field type-checked, unknown
 * fields dropped, strings and counts bounded, nothing nested deeper than a few levels, and caps on
 * what the emulator keeps in memory (users, media, faults, authorization codes).
 *
 * A refused input throws a `ControlError` (400, 404 or 409) and changes nothing. The
 * platform-neutral pieces (`ControlError`, JSON bodies, input objects, clock moves) are the shared
 * core's (`emulator-core/control-input.ts`, `emulator-core/clock.ts`), re-exported here.
 */
import type { EmulatorAccountType, Fault } from './state.ts'
import { ControlError, field, inputObject } from '../../emulator-core/control-input.ts'

export {
  ControlError,
  assertShallow,
  field,
  inputObject,
  jsonDepth,
  parseJsonBody,
} from '../../emulator-core/control-input.ts'
export { parseClockMove } from '../../emulator-core/clock.ts'

/** What the emulator keeps at most, and how large one control input may be. */
export interface EmulatorLimits {
  /** Users in the emulator's world, the demo accounts included. */
  readonly users: number
  /** Top-level media across all users (children of albums not counted). */
  readonly totalMedia: number
  /** `media_count` of one new user (and never more than what `totalMedia` leaves). */
  readonly mediaPerNewUser: number
  /** Faults queued at once. */
  readonly faults: number
  /** `count` of one fault. */
  readonly faultCount: number
  /** Any string in a fault (`path`, `message`). */
  readonly faultString: number
  /**
   * A throttle fault's `minutes` (`estimated_time_to_regain_access`). Large on purpose (about ten
   * years), so that the app's own clamping of absurd values can still be tested.
   */
  readonly throttleMinutes: number
  /** A timeout fault's `hang_ms`. */
  readonly hangMs: number
  /** Authorization codes kept (issued, used or not, and unexpired); the oldest are dropped. */
  readonly codes: number
  /** Caption length in characters (Instagram's own limit). */
  readonly caption: number
  /** Bytes of one JSON body sent to the HTTP control API. */
  readonly bodyBytes: number
  /** Nesting of one input: `{}` is depth 1, `{"a":[]}` depth 2. */
  readonly depth: number
}

export const DEFAULT_LIMITS: EmulatorLimits = Object.freeze({
  users: 200,
  totalMedia: 50_000,
  mediaPerNewUser: 10_000,
  faults: 100,
  faultCount: 10_000,
  faultString: 500,
  throttleMinutes: 10 * 365 * 24 * 60,
  hangMs: 120_000,
  codes: 10_000,
  caption: 2_200,
  bodyBytes: 64 * 1024,
  depth: 4,
})

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

function boundedString(value: unknown, name: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max)
    throw invalid(`${name} must be a string of 1 to ${max} characters`)
  return value
}

export interface NewUser {
  readonly username: string
  readonly account_type: EmulatorAccountType
  readonly media_count: number
}

/**
 * `{username, account_type?, media_count?}`; `media_count` is bounded by `mediaLeft`, what the cap
 * on total media still allows.
 */
export function parseNewUser(value: unknown, mediaLeft: number, limits: EmulatorLimits): NewUser {
  const input = inputObject(value, 'a new user', limits)
  const username = field(input, 'username')
  const type = field(input, 'account_type') ?? 'BUSINESS'
  const count = field(input, 'media_count') ?? 10
  if (typeof username !== 'string' || !/^[a-z0-9._]{1,30}$/.test(username))
    throw invalid('username must be 1-30 of a-z 0-9 . _')
  if (type !== 'BUSINESS' && type !== 'MEDIA_CREATOR' && type !== 'PERSONAL')
    throw invalid('account_type must be BUSINESS, MEDIA_CREATOR or PERSONAL')
  const max = Math.max(0, Math.min(limits.mediaPerNewUser, mediaLeft))
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > max) {
    throw invalid(
      `media_count must be a whole number from 0 to ${max} (at most ${limits.mediaPerNewUser} per user and ${limits.totalMedia} across all users; ${Math.max(0, mediaLeft)} left)`,
    )
  }
  return { username, account_type: type, media_count: count }
}

/** A caption: a string of at most `limits.caption` characters (code points), or `null`. */
export function parseCaption(value: unknown, limits: EmulatorLimits): string | null {
  if (value === null) return null
  if (typeof value !== 'string') throw invalid('caption must be a string (or null for none)')
  // Instagram counts characters (code points); a code point is one or two UTF-16 units
  const max = limits.caption
  if (value.length > max && (value.length > 2 * max || [...value].length > max))
    throw invalid(`caption must be at most ${max} characters`)
  return value
}

/** `{caption?}` for a new post: `undefined` keeps the generated caption. */
export function parseNewPost(
  value: unknown,
  limits: EmulatorLimits,
): { caption: string | null | undefined } {
  const caption = field(inputObject(value, 'a new post', limits), 'caption')
  return { caption: caption === undefined ? undefined : parseCaption(caption, limits) }
}

/** `{caption}` for an edit: the caption is required (null removes it). */
export function parseMediaEdit(value: unknown, limits: EmulatorLimits): { caption: string | null } {
  const input = inputObject(value, 'a media edit', limits)
  if (!Object.hasOwn(input, 'caption')) throw invalid('give caption (a string, or null for none)')
  return { caption: parseCaption(field(input, 'caption'), limits) }
}

/** Meta's error subcodes are positive integers of up to 7 digits (460: password changed). */
export function parseSubcode(value: unknown): number {
  return value === undefined ? 460 : integer(value, 'subcode', 1, 9_999_999)
}

const THROTTLE_CODES = [4, 17, 32, 613, 80002] as const

/**
 * A fault: `kind` and a positive `count`, an optional `path` (a substring of the request path),
 * and the fields of its kind. Only known fields are kept; every one is type-checked and bounded.
 */
export function parseFault(value: unknown, limits: EmulatorLimits): Fault {
  const input = inputObject(value, 'a fault', limits)
  const kind = field(input, 'kind')
  const count = integer(field(input, 'count'), 'count', 1, limits.faultCount)
  const rawPath = field(input, 'path')
  const path =
    rawPath === undefined ? {} : { path: boundedString(rawPath, 'path', limits.faultString) }
  switch (kind) {
    case 'http_5xx': {
      const status = optionalInteger(field(input, 'status'), 'status', 500, 599)
      return { kind, count, ...path, ...(status === undefined ? {} : { status }) }
    }
    case 'timeout': {
      const hang = optionalInteger(field(input, 'hang_ms'), 'hang_ms', 0, limits.hangMs)
      return { kind, count, ...path, ...(hang === undefined ? {} : { hang_ms: hang }) }
    }
    case 'throttle': {
      const code = field(input, 'code')
      const throttleCode = THROTTLE_CODES.find((c) => c === code)
      if (throttleCode === undefined)
        throw invalid(`code must be one of ${THROTTLE_CODES.join(', ')}`)
      const minutes = optionalInteger(field(input, 'minutes'), 'minutes', 0, limits.throttleMinutes)
      return {
        kind,
        code: throttleCode,
        count,
        ...path,
        ...(minutes === undefined ? {} : { minutes }),
      }
    }
    case 'graph_error': {
      const code = integer(field(input, 'code'), 'code', 1, 9_999_999)
      const subcode = optionalInteger(field(input, 'subcode'), 'subcode', 1, 9_999_999)
      const message = boundedString(field(input, 'message'), 'message', limits.faultString)
      const status = optionalInteger(field(input, 'status'), 'status', 400, 599)
      return {
        kind,
        code,
        message,
        count,
        ...path,
        ...(subcode === undefined ? {} : { subcode }),
        ...(status === undefined ? {} : { status }),
      }
    }
    default:
      throw invalid('fault needs kind (http_5xx|timeout|throttle|graph_error) and a positive count')
  }
}

export interface SettingsChange {
  readonly tokenResponseShape?: 'flat' | 'wrapped'
  readonly latencyMs?: number
  readonly callsPerHourPerUser?: number
}

/** `{token_response_shape?, latency_ms?, calls_per_hour_per_user?}`, at least one of them. */
export function parseSettingsChange(value: unknown, limits: EmulatorLimits): SettingsChange {
  const input = inputObject(value, 'a settings change', limits)
  const shape = field(input, 'token_response_shape')
  const latency = field(input, 'latency_ms')
  const budget = field(input, 'calls_per_hour_per_user')
  if (shape === undefined && latency === undefined && budget === undefined)
    throw invalid(
      'nothing to change: give token_response_shape, latency_ms or calls_per_hour_per_user',
    )
  if (shape !== undefined && shape !== 'flat' && shape !== 'wrapped')
    throw invalid('token_response_shape must be flat or wrapped')
  if (
    latency !== undefined &&
    (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0 || latency > 60_000)
  )
    throw invalid('latency_ms must be a number from 0 to 60000')
  return {
    ...(shape === undefined ? {} : { tokenResponseShape: shape }),
    ...(latency === undefined ? {} : { latencyMs: latency }),
    ...(budget === undefined
      ? {}
      : { callsPerHourPerUser: integer(budget, 'calls_per_hour_per_user', 1, 1_000_000) }),
  }
}
