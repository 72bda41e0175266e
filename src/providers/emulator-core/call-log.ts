/**
 * @module providers/emulator-core/call-log — the calls an emulator records: when, the method, the
 * path **without its query string** (tokens travel in queries; they are never recorded), and the
 * status. The log is a plain array, oldest first, bounded: past `max` the oldest go.
 */

/** The newest calls kept. */
export const CALL_LOG_LIMIT = 50_000

/** What every recorded call holds; a platform may add who made it. */
export interface LoggedCall {
  at: number
  method: string
  /** Path without query string (tokens never recorded). */
  path: string
  status: number
}

/** The path of a request URL, without its query string. */
export function pathOnly(url: string): string {
  return url.split('?')[0] ?? ''
}

/** Appends `call`, dropping the oldest beyond `max`. */
export function logCall<C extends LoggedCall>(calls: C[], call: C, max = CALL_LOG_LIMIT): void {
  calls.push(call)
  if (calls.length > max) calls.splice(0, calls.length - max)
}

/** How many calls after `since` (ms) satisfy `match`. */
export function countCallsSince<C extends LoggedCall>(
  calls: readonly C[],
  since: number,
  match: (call: C) => boolean,
): number {
  let n = 0
  for (const call of calls) if (match(call) && call.at > since) n++
  return n
}
