/**
 * @module providers/youtube/emulator/faults — applying faults: the first queued fault matching
 * the request path (the queue is the shared core's, `emulator-core/faults.ts`), thrown as Google
 * would answer it: a 5xx `backendError`, a 403 `rateLimitExceeded` / `userRateLimitExceeded`
 * (retry a minute later), a 403 `quotaExceeded`, a 401 `authError`, a 400 `badRequest`; or a latency before the call
 * proceeds, or a connection cut with no answer (`drop`).
 */
import {
  DroppedConnection,
  authError,
  backendError,
  badRequest,
  quotaExceeded,
  rateLimit,
} from './errors.ts'
import type { YoutubeEmulatorState } from './state.ts'

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export type ApplyFaults = (path: string) => Promise<void>

export function createFaultInjector(state: YoutubeEmulatorState): ApplyFaults {
  return async (path) => {
    const fault = state.takeFault(path)
    if (fault === null) return
    switch (fault.kind) {
      case 'http_5xx':
        throw backendError(fault.status ?? 503)
      case 'rate_limit':
        throw rateLimit(fault.reason, state.clock.now() + 60_000)
      case 'quota_exceeded':
        throw quotaExceeded()
      case 'auth_error':
        throw authError()
      case 'bad_request':
        throw badRequest()
      case 'latency':
        await delay(fault.ms)
        return
      case 'drop':
        throw new DroppedConnection()
    }
  }
}
