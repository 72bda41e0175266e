/**
 * @module store/sliding-window — the arithmetic of a sliding-window call budget (a "sliding window
 * counter"): per scope, the calls of the current fixed window and of the one before it, the latter
 * weighted by how much of it still overlaps the last `windowMs`. Pure: `reserveApiCall` reads the
 * scope's row, asks `admitCall`, and writes the counts back, all in one transaction.
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
  const overlap = 1 - (now - windowStart) / windowMs
  return { windowStart, calls, previous, estimate: previous * overlap + calls }
}

/** When one more call fits under `cap` again (the previous window's weight keeps shrinking). */
export function capRetryAt(
  state: { windowStart: number; calls: number; previous: number },
  cap: number,
  windowMs: number,
): number {
  // whole milliseconds, rounded up, without floating-point noise turning 1200000.0000002 into 1200001
  const after = (fraction: number): number => Math.ceil(windowMs * fraction - 1e-6)
  const room = cap - 1 - state.calls
  if (room >= 0 && state.previous > 0) {
    return state.windowStart + after(1 - room / state.previous)
  }
  // this window is full by itself: wait for the next one and for its weight to fall enough
  const nextStart = state.windowStart + windowMs
  return nextStart + after(Math.max(0, 1 - (cap - 1) / Math.max(1, state.calls)))
}

export type WindowVerdict =
  | { readonly allowed: true; readonly counts: WindowCounts }
  | { readonly allowed: false; readonly retryAt: number }

/**
 * Decides one call at `now` given the scope's stored counters (`undefined`: none yet) and its cap
 * (`null`: no cap, the call is only counted). Allowed: the counters to store, this call included.
 * Refused: nothing changes, and `retryAt` says when a call fits again.
 */
export function admitCall(
  row: WindowCounts | undefined,
  now: number,
  windowMs: number,
  cap: number | null,
): WindowVerdict {
  const window = windowState(row, now, windowMs)
  if (cap !== null && window.estimate + 1 > cap) {
    return { allowed: false, retryAt: capRetryAt(window, cap, windowMs) }
  }
  return {
    allowed: true,
    counts: {
      window_start: window.windowStart,
      window_calls: window.calls + 1,
      previous_window_calls: window.previous,
    },
  }
}
