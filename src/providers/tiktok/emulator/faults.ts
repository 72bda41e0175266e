/**
 * @module providers/tiktok/emulator/faults — applying faults: the first queued fault matching the
 * request path (the queue is the shared core's, `emulator-core/faults.ts`), thrown as TikTok
 * would answer it: a 5xx `internal_error`, a 429 `rate_limit_exceeded`, a 401
 * `access_token_invalid`, a 400 `invalid_params` (a permanent refusal); or a latency before the
 * call proceeds, or a connection cut with no answer (`drop`).
 */
import {
  DroppedConnection,
  accessTokenInvalid,
  internalError,
  invalidParams,
  rateLimitExceeded,
} from './errors.ts'
import type { TiktokEmulatorState } from './state.ts'

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export type ApplyFaults = (path: string) => Promise<void>

export function createFaultInjector(state: TiktokEmulatorState): ApplyFaults {
  return async (path) => {
    const fault = state.takeFault(path)
    if (fault === null) return
    switch (fault.kind) {
      case 'http_5xx':
        throw internalError(fault.status ?? 500)
      case 'rate_limit':
        throw rateLimitExceeded()
      case 'invalid_token':
        throw accessTokenInvalid()
      case 'invalid_params':
        throw invalidParams('The request parameters are invalid.')
      case 'latency':
        await delay(fault.ms)
        return
      case 'drop':
        throw new DroppedConnection()
    }
  }
}
