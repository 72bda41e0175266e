/**
 * @module providers/x/emulator/bounds — the one validation and bounds layer of the X emulator's
 * control operations: the programmatic interface (`emulator.control`) and the standalone HTTP
 * control API (`control.ts`) both take their input through these functions. Every field is
 * type-checked, unknown fields are dropped, strings and counts bounded, and what the emulator
 * keeps in memory is capped. A refused input throws a `ControlError` and changes nothing.
 */
import { ControlError, field, inputObject } from '../../emulator-core/control-input.ts'
import type { EmulatorMediaType, Fault } from './state.ts'

export {
  ControlError,
  field,
  inputObject,
  parseJsonBody,
} from '../../emulator-core/control-input.ts'
export { parseClockMove } from '../../emulator-core/clock.ts'

export interface XEmulatorLimits {
  readonly accounts: number
  /** Posts across all accounts. */
  readonly totalPosts: number
  /** `post_count` of one new account. */
  readonly postsPerNewAccount: number
  readonly faults: number
  readonly faultCount: number
  readonly faultString: number
  readonly latencyMs: number
  /** Authorization codes kept; the oldest are dropped. */
  readonly codes: number
  /** Grants whose current refresh token is remembered. */
  readonly grants: number
  readonly revokedGrants: number
  /** A post's text (X's own limit for most accounts: 280 characters; long posts up to 25,000). */
  readonly text: number
  readonly bodyBytes: number
  readonly depth: number
}

export const DEFAULT_LIMITS: XEmulatorLimits = Object.freeze({
  accounts: 200,
  totalPosts: 50_000,
  postsPerNewAccount: 10_000,
  faults: 100,
  faultCount: 10_000,
  faultString: 500,
  latencyMs: 120_000,
  codes: 10_000,
  grants: 100_000,
  revokedGrants: 100_000,
  text: 25_000,
  bodyBytes: 64 * 1024,
  depth: 4,
})

/** The most post reads a month the usage cap can be set to. */
export const MAX_POST_CAP = 1_000_000_000

const invalid = (message: string): ControlError => new ControlError(400, message)

export function integer(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalid(`${name} must be a whole number from ${min} to ${max}`)
  return value
}

function text(value: unknown, name: string, max: number): string {
  if (typeof value !== 'string' || value.length > max)
    throw invalid(`${name} must be a string of at most ${max} characters`)
  return value
}

export function parseIndex(value: unknown): number {
  return integer(value, 'account index', 0, 1_000_000_000)
}

const FAULT_KINDS = [
  'http_5xx',
  'rate_limit',
  'usage_capped',
  'credits_depleted',
  'client_not_enrolled',
  'unauthorized',
  'latency',
  'drop',
] as const

/** `{kind, count?, path?, status?, ms?}` as a queued fault. */
export function parseFault(value: unknown, limits: XEmulatorLimits): Fault {
  const input = inputObject(value, 'a fault', limits)
  const kind = FAULT_KINDS.find((k) => k === field(input, 'kind'))
  if (kind === undefined) throw invalid(`kind must be one of ${FAULT_KINDS.join(', ')}`)
  const rawCount = field(input, 'count')
  const count = rawCount === undefined ? 1 : integer(rawCount, 'count', 1, limits.faultCount)
  const rawPath = field(input, 'path')
  const path = rawPath === undefined ? undefined : text(rawPath, 'path', limits.faultString)
  const where = path === undefined ? {} : { path }
  if (kind === 'http_5xx') {
    const rawStatus = field(input, 'status')
    const status = rawStatus === undefined ? undefined : integer(rawStatus, 'status', 500, 599)
    return { kind, count, ...where, ...(status === undefined ? {} : { status }) }
  }
  if (kind === 'latency')
    return { kind, count, ms: integer(field(input, 'ms'), 'ms', 0, limits.latencyMs), ...where }
  return { kind, count, ...where }
}

export interface NewPost {
  readonly text?: string
  readonly media: EmulatorMediaType[]
  readonly reply: boolean
  readonly retweet: boolean
  readonly createdAt?: number
}

const MEDIA_TYPES: readonly EmulatorMediaType[] = ['photo', 'video', 'animated_gif']

/** `{text?, media?: ('photo'|'video'|'animated_gif')[], reply?, retweet?, created_at?}`. */
export function parseNewPost(value: unknown, limits: XEmulatorLimits): NewPost {
  const input = inputObject(value, 'a post', limits)
  const rawText = field(input, 'text')
  const rawMedia = field(input, 'media') ?? []
  if (!Array.isArray(rawMedia) || rawMedia.length > 4)
    throw invalid('media must be a list of at most 4 media types (X allows 4 per post)')
  const media = rawMedia.map((m: unknown) => {
    const type = MEDIA_TYPES.find((t) => t === m)
    if (type === undefined) throw invalid(`media entries must be one of ${MEDIA_TYPES.join(', ')}`)
    return type
  })
  if (media.length > 1 && media.some((m) => m !== 'photo'))
    throw invalid('only photos can be several in one post; a video or GIF comes alone')
  const flag = (name: string): boolean => {
    const raw = field(input, name)
    if (raw !== undefined && typeof raw !== 'boolean') throw invalid(`${name} must be a boolean`)
    return raw === true
  }
  const rawAt = field(input, 'created_at')
  let createdAt: number | undefined
  if (rawAt !== undefined) {
    const at = typeof rawAt === 'string' && rawAt.length <= 40 ? Date.parse(rawAt) : Number.NaN
    if (Number.isNaN(at) || at < Date.UTC(2010, 10, 6))
      throw invalid('created_at must be an ISO date from 2010-11-06 on')
    createdAt = at
  }
  return {
    ...(rawText === undefined ? {} : { text: text(rawText, 'text', limits.text) }),
    media,
    reply: flag('reply'),
    retweet: flag('retweet'),
    ...(createdAt === undefined ? {} : { createdAt }),
  }
}

export interface NewAccount {
  readonly name: string
  readonly username: string
  readonly postCount: number
}

/** `{name, username, post_count?}`; `room`: posts the emulator still holds. */
export function parseNewAccount(value: unknown, room: number, limits: XEmulatorLimits): NewAccount {
  const input = inputObject(value, 'an account', limits)
  const name = text(field(input, 'name'), 'name', 50)
  const username = text(field(input, 'username'), 'username', 15)
  if (!/^[A-Za-z0-9_]{1,15}$/.test(username))
    throw invalid('username must be 1 to 15 letters, digits or _')
  const rawCount = field(input, 'post_count')
  const postCount =
    rawCount === undefined
      ? 0
      : integer(rawCount, 'post_count', 0, Math.min(limits.postsPerNewAccount, room))
  return { name, username, postCount }
}
