/**
 * @module providers/tiktok/emulator/bounds — the one validation and bounds layer of the TikTok
 * emulator's control operations. The programmatic interface (`emulator.control`,
 * `controller.ts`) and the standalone HTTP control API (`control.ts`) both take their input
 * through these functions: every field type-checked, unknown fields dropped, strings and counts
 * bounded, nothing nested deeper than a few levels, and caps on what the emulator keeps in
 * memory (accounts' videos, faults, codes, grants, revoked grants, pending webhooks).
 *
 * A refused input throws a `ControlError` (400, 404 or 409) and changes nothing.
 */
import { ControlError, field, inputObject } from '../../emulator-core/control-input.ts'
import type { Fault, Privacy } from './state.ts'

export {
  ControlError,
  field,
  inputObject,
  parseJsonBody,
} from '../../emulator-core/control-input.ts'
export { parseClockMove } from '../../emulator-core/clock.ts'

export interface TiktokEmulatorLimits {
  /** Videos across all accounts. */
  readonly totalVideos: number
  readonly faults: number
  readonly faultCount: number
  readonly faultString: number
  readonly latencyMs: number
  /** Authorization codes kept; the oldest are dropped. */
  readonly codes: number
  /** Grants remembered (for rotation); past it the oldest are forgotten. */
  readonly grants: number
  readonly revokedGrants: number
  /** Webhook events awaiting a 200. */
  readonly pendingWebhooks: number
  /** TikTok's own limit on `title` and `video_description`: 150 characters (T10). */
  readonly text: number
  readonly bodyBytes: number
  readonly depth: number
}

export const DEFAULT_LIMITS: TiktokEmulatorLimits = Object.freeze({
  totalVideos: 50_000,
  faults: 100,
  faultCount: 10_000,
  faultString: 500,
  latencyMs: 120_000,
  codes: 10_000,
  grants: 100_000,
  revokedGrants: 100_000,
  pendingWebhooks: 1_000,
  text: 150,
  bodyBytes: 64 * 1024,
  depth: 4,
})

/** The longest video the control accepts: 60 minutes (TikTok's upload limit). */
export const MAX_DURATION_SECONDS = 3_600

const invalid = (message: string): ControlError => new ControlError(400, message)

function integer(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalid(`${name} must be a whole number from ${min} to ${max}`)
  return value
}

function text(value: unknown, name: string, min: number, max: number): string {
  if (typeof value !== 'string' || [...value].length < min || [...value].length > max)
    throw invalid(`${name} must be a string of ${min} to ${max} characters`)
  return value
}

function isoSeconds(value: unknown, name: string): number {
  if (typeof value === 'string' && value.length <= 40 && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const at = Date.parse(value)
    if (!Number.isNaN(at) && at >= 1_000 && at <= 253_402_300_799_999) return Math.floor(at / 1000)
  }
  throw invalid(`${name} must be an ISO date (2026-05-01T12:00:00Z)`)
}

/** The fields of a video the control can set (snake_case in the input, like the HTTP API). */
export interface VideoFields {
  readonly title?: string
  readonly description?: string
  readonly privacy?: Privacy
  readonly durationSeconds?: number
  readonly width?: number
  readonly height?: number
  /** Epoch seconds. */
  readonly createTime?: number
}

/**
 * `{title?, description?, privacy?: public|private, duration_seconds?: 1-3600, width?, height?,
 * created_at?: ISO date}`.
 */
export function parseVideoFields(
  value: unknown,
  limits: TiktokEmulatorLimits,
  requireOne: boolean,
): VideoFields {
  const input = inputObject(value, 'a video', limits)
  const out: { -readonly [K in keyof VideoFields]: VideoFields[K] } = {}
  const title = field(input, 'title')
  if (title !== undefined) out.title = text(title, 'title', 1, limits.text)
  const description = field(input, 'description')
  if (description !== undefined) out.description = text(description, 'description', 0, limits.text)
  const privacy = field(input, 'privacy')
  if (privacy !== undefined) {
    if (privacy !== 'public' && privacy !== 'private')
      throw invalid('privacy must be public or private')
    out.privacy = privacy
  }
  const duration = field(input, 'duration_seconds')
  if (duration !== undefined)
    out.durationSeconds = integer(duration, 'duration_seconds', 1, MAX_DURATION_SECONDS)
  const width = field(input, 'width')
  if (width !== undefined) out.width = integer(width, 'width', 1, 8192)
  const height = field(input, 'height')
  if (height !== undefined) out.height = integer(height, 'height', 1, 8192)
  const created = field(input, 'created_at')
  if (created !== undefined) out.createTime = isoSeconds(created, 'created_at')
  if (requireOne && Object.keys(out).length === 0)
    throw invalid(
      'nothing to change: give title, description, privacy, duration_seconds, width, height or created_at',
    )
  return out
}

const FAULT_KINDS = 'http_5xx|rate_limit|invalid_token|invalid_params|latency|drop'

/** A fault: `kind`, a positive `count`, an optional `path`, and the fields of its kind. */
export function parseFault(value: unknown, limits: TiktokEmulatorLimits): Fault {
  const input = inputObject(value, 'a fault', limits)
  const kind = field(input, 'kind')
  const count = integer(field(input, 'count') ?? 1, 'count', 1, limits.faultCount)
  const rawPath = field(input, 'path')
  const path = rawPath === undefined ? {} : { path: text(rawPath, 'path', 1, limits.faultString) }
  switch (kind) {
    case 'http_5xx': {
      const raw = field(input, 'status')
      const status = raw === undefined ? undefined : integer(raw, 'status', 500, 599)
      return { kind, count, ...path, ...(status === undefined ? {} : { status }) }
    }
    case 'rate_limit':
    case 'invalid_token':
    case 'invalid_params':
    case 'drop':
      return { kind, count, ...path }
    case 'latency':
      return { kind, ms: integer(field(input, 'ms'), 'ms', 0, limits.latencyMs), count, ...path }
    default:
      throw invalid(`fault needs kind (${FAULT_KINDS}) and a positive count`)
  }
}

/**
 * The `reason` of an `authorization.removed` event (T12): 0 unknown, 1 the user disconnected,
 * 2 the account was deleted, 3 an age change, 4 the account was banned, 5 the developer revoked.
 */
export function parseRemovalReason(value: unknown): number {
  return integer(value ?? 1, 'reason', 0, 5)
}

/** An account index: a positive whole number. */
export function parseIndex(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new ControlError(404, 'no such account')
  return value
}
