/**
 * @module providers/instagram/emulator/faults — applying faults: the configured latency, then the
 * first queued fault matching the path (the queue is the shared core's,
 * `emulator-core/faults.ts`), thrown as Meta would answer it: a transient 5xx, a gateway timeout
 * after hanging, a throttle with its usage headers, or any Graph error.
 */
import { GraphFailure, THROTTLE_MESSAGES, fbtrace, graphError } from './errors.ts'
import type { EmulatorState, EmulatorUser, Fault } from './state.ts'

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export type ApplyFaults = (path: string, user: EmulatorUser | null) => Promise<void>

export function createFaultInjector(
  state: EmulatorState,
  usageHeaders: (user: EmulatorUser) => Record<string, string>,
): ApplyFaults {
  async function applyFaults(path: string, user: EmulatorUser | null): Promise<void> {
    if (state.settings.latencyMs > 0) await delay(state.settings.latencyMs)
    const fault: Fault | null = state.takeFault(path)
    if (fault === null) return
    switch (fault.kind) {
      case 'http_5xx':
        throw new GraphFailure(fault.status ?? 500, {
          error: {
            message: 'An unexpected error has occurred. Please retry your request later.',
            type: 'OAuthException',
            is_transient: true,
            code: 2,
            fbtrace_id: fbtrace(),
          },
        })
      case 'timeout':
        await delay(fault.hang_ms ?? 30_000)
        throw new GraphFailure(504, {
          error: { message: 'Gateway timeout', code: 2, is_transient: true, fbtrace_id: fbtrace() },
        })
      case 'throttle': {
        const headers: Record<string, string> = user === null ? {} : usageHeaders(user)
        if (user !== null) {
          headers['x-business-use-case-usage'] = JSON.stringify({
            [user.user_id]: [
              {
                type: 'instagram',
                call_count: 100,
                total_cputime: 30,
                total_time: 40,
                estimated_time_to_regain_access: fault.minutes ?? 15,
              },
            ],
          })
        }
        throw new GraphFailure(
          400,
          {
            error: {
              message: THROTTLE_MESSAGES[fault.code] ?? 'Rate limited',
              type: 'OAuthException',
              is_transient: true,
              code: fault.code,
              fbtrace_id: fbtrace(),
            },
          },
          headers,
        )
      }
      case 'graph_error':
        throw graphError(
          fault.code,
          fault.message,
          fault.subcode === undefined ? {} : { error_subcode: fault.subcode },
          fault.status ?? 400,
        )
    }
  }

  return applyFaults
}
