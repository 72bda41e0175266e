/**
 * @module store/sliding-window — the arithmetic of the store's call budgets, pure: `reserveApiCall`
 * reads each scope's row, asks `admitCall` (rolling windows) or `admitFixedWindowCall` (fixed
 * windows: a day, a month), and writes the counts back, all in one transaction. Counts are units:
 * a call of cost `c` counts `c` (every call costs 1 on most platforms; YouTube's do not).
 *
 * A rolling budget is a "sliding window counter": per scope, the units of the current aligned
 * window and of the one before it, the latter weighted by how much of it still overlaps the last
 * `windowMs`.
 *
 * What it guarantees (and `test/store/sliding-window.test.ts` checks): never more than `cap` calls
 * in one aligned window, hence never more than `2 × cap` in any `windowMs` span; every call is
 * admitted while the estimate leaves room; and a refusal's `retryAt` is the first millisecond at
 * which a call fits again. What it does not: the estimate assumes the previous window's calls were
 * spread evenly, so a burst at the end of one window followed by calls early in the next can put
 * more than `cap` calls in a span that straddles the boundary. That is the price of two counters
 * instead of a timestamp per call.
 */

/** The counters stored per scope (`api_budgets` columns). */
export interface WindowCounts {
  /** The start of the fixed window `window_calls` counts (a multiple of `windowMs`). */
  readonly window_start: number
  readonly window_calls: number
  /** The calls of the window before `window_start`. */
  readonly previous_window_calls: number
}

/** The window `now` falls in, its calls and the previous window's, and the sliding estimate. */
export interface WindowState {
  readonly windowStart: number
  readonly calls: number
  readonly previous: number
  readonly estimate: number
}

/**
 * A sliding-window estimate of the calls in the last `windowMs`: the previous window's calls
 * weighted by how much of it still overlaps, plus the current window's.
 */
export function windowState(
  row: WindowCounts | undefined,
  now: number,
  windowMs: number,
): WindowState {
  const windowStart = Math.floor(now / windowMs) * windowMs
  let calls = 0
  let previous = 0
  if (row?.window_start === windowStart) {
    calls = row.window_calls
    previous = row.previous_window_calls
  } else if (row?.window_start === windowStart - windowMs) {
    previous = row.window_calls
  }
  // the product before the division: an estimate that is a whole number comes out exact, so a
  // call that fits exactly is not refused for a rounding error (27 × (1 − 1/3) is not 18 in floats)
  const overlapMs = windowStart + windowMs - now
  return { windowStart, calls, previous, estimate: (previous * overlapMs) / windowMs + calls }
}

/**
 * When a call of `cost` units fits under `cap` again (the previous window's weight keeps
 * shrinking). A cost above the cap never fits, and the answer is then meaningless: the rate
 * governor refuses such budgets at creation.
 */
export function capRetryAt(
  state: { windowStart: number; calls: number; previous: number },
  cap: number,
  windowMs: number,
  cost = 1,
): number {
  // the first whole millisecond `e` into the window with previous × (windowMs − e) / windowMs +
  // calls + cost ≤ cap; products before divisions, so exact boundaries stay exact
  const room = cap - cost - state.calls
  if (room >= 0 && state.previous > 0) {
    return state.windowStart + Math.ceil((windowMs * (state.previous - room)) / state.previous)
  }
  // this window is full by itself: wait for the next one and for its weight to fall enough
  const nextStart = state.windowStart + windowMs
  const calls = Math.max(1, state.calls)
  return nextStart + Math.max(0, Math.ceil((windowMs * (calls - (cap - cost))) / calls))
}

export type WindowVerdict =
  | { readonly allowed: true; readonly counts: WindowCounts }
  | { readonly allowed: false; readonly retryAt: number }

/**
 * Decides one call of `cost` units at `now` given the scope's stored counters (`undefined`: none
 * yet) and its cap (`null`: no cap, the call is only counted): admitted while `estimate + cost`
 * stays within `cap`. Allowed: the counters to store, this call included. Refused: nothing
 * changes, and `retryAt` says when the call fits again.
 */
export function admitCall(
  row: WindowCounts | undefined,
  now: number,
  windowMs: number,
  cap: number | null,
  cost = 1,
): WindowVerdict {
  const window = windowState(row, now, windowMs)
  if (cap !== null && window.estimate + cost > cap) {
    return { allowed: false, retryAt: capRetryAt(window, cap, windowMs, cost) }
  }
  return {
    allowed: true,
    counts: {
      window_start: window.windowStart,
      window_calls: window.calls + cost,
      previous_window_calls: window.previous,
    },
  }
}

/** A fixed window: from `start` (included) to `end` (excluded), epoch milliseconds. */
export interface WindowBounds {
  readonly start: number
  readonly end: number
}

/**
 * Decides a call of `cost` units in the fixed window `bounds` (a day, a month: the caller computes
 * it, see `socials/budget-windows.ts`) given the scope's stored counters — the same `api_budgets`
 * columns the sliding counter uses: `window_start` is the window's start and `window_calls` the
 * units spent in it (a row from another window counts as empty). `cap` `null`: only counted.
 * Refused (the units left are fewer than `cost`): nothing changes; `retryAt` is the window's end.
 */
export function admitFixedWindowCall(
  row: WindowCounts | undefined,
  bounds: WindowBounds,
  cap: number | null,
  cost = 1,
): WindowVerdict {
  const spent = row?.window_start === bounds.start ? row.window_calls : 0
  if (cap !== null && spent + cost > cap) return { allowed: false, retryAt: bounds.end }
  return {
    allowed: true,
    counts: { window_start: bounds.start, window_calls: spent + cost, previous_window_calls: 0 },
  }
}
