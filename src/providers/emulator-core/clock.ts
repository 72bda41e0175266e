/**
 * @module providers/emulator-core/clock — how an emulator uses the movable clock: it runs on an
 * injected `Clock`; on a `ManualClock` (tests, `npm run emulator`) the control interface can move
 * it, `{advance_ms}` or `{now}`, and on the system clock it refuses (409).
 */
import type { Clock, ManualClock } from '../../clock.ts'
import { ControlError, field, inputObject, type InputLimits } from './control-input.ts'

/** The clock an emulator runs on: the system clock, or a movable one. */
export type EmulatorClock = Clock | ManualClock

/** A parsed clock move. */
export type ClockMove = { advanceMs: number } | { at: number }

const invalid = (message: string): ControlError => new ControlError(400, message)

/** About a century: the most the control clock moves in one step. */
export const MAX_CLOCK_STEP_MS = 100 * 366 * 86_400_000

/** `{advance_ms}` (milliseconds, may be negative) or `{now}` (an ISO date). */
export function parseClockMove(value: unknown, limits: InputLimits): ClockMove {
  const input = inputObject(value, 'a clock move', limits)
  const advance = field(input, 'advance_ms')
  const now = field(input, 'now')
  if (typeof advance === 'number' && Number.isFinite(advance)) {
    if (Math.abs(advance) > MAX_CLOCK_STEP_MS)
      throw invalid(`advance_ms must be at most ${MAX_CLOCK_STEP_MS} (about a century)`)
    return { advanceMs: advance }
  }
  if (typeof now === 'string' && now.length <= 40) {
    const at = Date.parse(now)
    // the emulator's dates must stay printable as ISO (years 0000-9999)
    if (!Number.isNaN(at) && at >= -62_167_219_200_000 && at <= 253_402_300_799_999) return { at }
  }
  throw invalid('give advance_ms (number) or now (ISO date)')
}

/** Whether the control interface can move this clock. */
export function isMovable(clock: EmulatorClock): clock is ManualClock {
  return 'advance' in clock
}

/** Applies a parsed move; 409 on the system clock. Returns the new time, ms. */
export function moveClock(clock: EmulatorClock, move: ClockMove): number {
  if (!isMovable(clock)) throw new ControlError(409, 'this emulator runs on the system clock')
  if ('advanceMs' in move) clock.advance(move.advanceMs)
  else clock.set(move.at)
  return clock.now()
}
