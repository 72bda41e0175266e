/**
 * @module providers/x/emulator/faults — applying faults: the first queued fault matching the
 * request path (the queue is the shared core's, `emulator-core/faults.ts`), thrown as X would
 * answer it: a 5xx, a 429 with the window's reset, `429 UsageCapExceeded`, `402
 * credits-depleted`, `403 client-not-enrolled`, a 401; or a latency before the call proceeds, or
 * a connection cut with no answer (`drop`).
 */
import {
  DroppedConnection,
  clientNotEnrolled,
  creditsDepleted,
  serverError,
  tooManyRequests,
  unauthorized,
  usageCapped,
} from './errors.ts'
import { RATE_WINDOW_MS, type XEmulatorState } from './state.ts'

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Applies the first matching fault; `headers` receives a rate-limit fault's headers. */
export type ApplyFaults = (path: string, headers: Record<string, string>) => Promise<void>

export function createFaultInjector(state: XEmulatorState): ApplyFaults {
  return async (path, headers) => {
    const fault = state.takeFault(path)
    if (fault === null) return
    switch (fault.kind) {
      case 'http_5xx':
        throw serverError(fault.status ?? 503)
      case 'rate_limit': {
        const reset = Math.ceil((state.clock.now() + RATE_WINDOW_MS) / 1000)
        Object.assign(headers, {
          'x-rate-limit-limit': String(state.settings.rateLimits.timeline),
          'x-rate-limit-remaining': '0',
          'x-rate-limit-reset': String(reset),
        })
        throw tooManyRequests()
      }
      case 'usage_capped':
        throw usageCapped('1500000000000000999')
      case 'credits_depleted':
        throw creditsDepleted()
      case 'client_not_enrolled':
        throw clientNotEnrolled(state.settings.clientId)
      case 'unauthorized':
        throw unauthorized()
      case 'latency':
        await delay(fault.ms)
        return
      case 'drop':
        throw new DroppedConnection()
    }
  }
}
