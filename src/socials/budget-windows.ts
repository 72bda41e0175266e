/**
 * @module socials/budget-windows — the arithmetic of a platform's budget windows (pure functions):
 * which window an instant falls in, when it resets, and how a call is admitted in a fixed window.
 *
 * - `rolling` windows (Instagram's hour, X's 15 minutes) are counted by the store's sliding-window
 *   counter (`store/sliding-window.ts`) over aligned windows of `ms`; `windowAt` gives that
 *   aligned window.
 * - `daily` windows run from midnight to midnight in a named time zone (YouTube's quota resets at
 *   midnight America/Los_Angeles), so a day lasts 23 or 25 hours across a DST change.
 * - `monthly` windows run from the 1st at midnight to the next 1st at midnight in a time zone.
 *
 * Time-zone offsets come from `Intl.DateTimeFormat` (the runtime's time-zone database). A local
 * midnight that does not exist (a zone that springs forward at midnight) starts the day at the
 * first instant that does; one that happens twice (falls back at midnight) starts it at the
 * first. Both follow Temporal's "compatible" disambiguation.
 */
import type { BudgetWindow } from '../providers/types.ts'
import type { WindowBounds } from '../store/sliding-window.ts'

/** The store decides fixed-window calls; re-exported here beside the windows' arithmetic. */
export { admitFixedWindowCall } from '../store/sliding-window.ts'
export type { WindowBounds } from '../store/sliding-window.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone)
  if (format === undefined) {
    // throws RangeError for an unknown zone
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, format)
  }
  return format
}

/** Whether the runtime knows `timeZone` (an IANA name such as `America/Los_Angeles`). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone)
    return true
  } catch {
    return false
  }
}

/**
 * The offset of `timeZone` from UTC at `instant`, in milliseconds (local time = instant + offset):
 * −8 h for Los Angeles in winter, −7 h in summer.
 */
export function zoneOffsetMs(timeZone: string, instant: number): number {
  const whole = Math.floor(instant / 1000) * 1000
  const parts: Record<string, string> = {}
  for (const part of formatter(timeZone).formatToParts(new Date(whole)))
    parts[part.type] = part.value
  const date = new Date(0)
  date.setUTCFullYear(Number(parts.year), Number(parts.month) - 1, Number(parts.day))
  date.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second), 0)
  return date.getTime() - whole
}

/** The wall-clock reading of `instant` in `timeZone`, as if that reading were UTC. */
function wallClock(timeZone: string, instant: number): number {
  return instant + zoneOffsetMs(timeZone, instant)
}

/**
 * The instant at which the clocks of `timeZone` read `wall` (a wall-clock time written as if UTC,
 * e.g. `Date.UTC(2026, 2, 8)` for 8 March 2026, 00:00). A reading that happens twice (fall back)
 * gives the earlier instant; one that never happens (spring forward) gives the instant the clocks
 * jump past it, pushed forward by the gap, as Temporal's "compatible" disambiguation does.
 */
export function instantOfWallClock(timeZone: string, wall: number): number {
  // zones change offset at most once a day: the offsets a day before and after cover both sides
  const before = wall - zoneOffsetMs(timeZone, wall - DAY)
  const after = wall - zoneOffsetMs(timeZone, wall + DAY)
  const matches = [before, after].filter((instant) => wallClock(timeZone, instant) === wall)
  if (matches.length > 0) return Math.min(...matches)
  // in a gap: the offset before the change, which lands as far past the gap as `wall` was into it
  return before
}

/** The local calendar date of `instant` in `timeZone`. */
function localDate(
  timeZone: string,
  instant: number,
): { year: number; month: number; day: number } {
  const wall = new Date(wallClock(timeZone, instant))
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth(), day: wall.getUTCDate() }
}

/** `Date.UTC` that also reads years 0–99 as themselves. */
function utcDate(year: number, month: number, day: number): number {
  const date = new Date(0)
  date.setUTCFullYear(year, month, day)
  date.setUTCHours(0, 0, 0, 0)
  return date.getTime()
}

/** The local day of `instant` in `timeZone`: from its midnight to the next (23, 24 or 25 hours). */
export function dayAt(timeZone: string, instant: number): WindowBounds {
  const { year, month, day } = localDate(timeZone, instant)
  return {
    start: instantOfWallClock(timeZone, utcDate(year, month, day)),
    end: instantOfWallClock(timeZone, utcDate(year, month, day + 1)),
  }
}

/** The local month of `instant` in `timeZone`: from the 1st at midnight to the next 1st. */
export function monthAt(timeZone: string, instant: number): WindowBounds {
  const { year, month } = localDate(timeZone, instant)
  return {
    start: instantOfWallClock(timeZone, utcDate(year, month, 1)),
    end: instantOfWallClock(timeZone, utcDate(year, month + 1, 1)),
  }
}

/**
 * The window `instant` falls in. For a rolling window: the aligned window of `ms` the store's
 * sliding-window counter counts in (the budget itself covers the last `ms`, see
 * `store/sliding-window.ts`).
 */
export function windowAt(window: BudgetWindow, instant: number): WindowBounds {
  switch (window.kind) {
    case 'rolling': {
      const start = Math.floor(instant / window.ms) * window.ms
      return { start, end: start + window.ms }
    }
    case 'daily':
      return dayAt(window.timeZone, instant)
    case 'monthly':
      return monthAt(window.timeZone, instant)
  }
}

/**
 * When a spent budget comes back: for a fixed window (daily, monthly) the next reset; for a
 * rolling one, `null` (calls come back gradually: the store computes when one fits again).
 */
export function nextReset(window: BudgetWindow, instant: number): number | null {
  return window.kind === 'rolling' ? null : windowAt(window, instant).end
}

/** "per hour", "per 15 minutes", "per day (midnight America/Los_Angeles)", for messages. */
export function describeWindow(window: BudgetWindow): string {
  switch (window.kind) {
    case 'rolling': {
      if (window.ms % HOUR === 0)
        return window.ms === HOUR ? 'per hour' : `per ${window.ms / HOUR} hours`
      if (window.ms % MINUTE === 0)
        return window.ms === MINUTE ? 'per minute' : `per ${window.ms / MINUTE} minutes`
      return `per ${Math.ceil(window.ms / 1000)} seconds`
    }
    case 'daily':
      return `per day (midnight ${window.timeZone})`
    case 'monthly':
      return `per month (the 1st, midnight ${window.timeZone})`
  }
}
