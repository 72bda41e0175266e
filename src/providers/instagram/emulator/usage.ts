/**
 * @module providers/instagram/emulator/usage — Meta's usage headers (`x-app-usage`,
 * `x-business-use-case-usage` with `estimated_time_to_regain_access`) and the per-user hourly
 * budget (models the BUC budget): past `callsPerHourPerUser` calls in a rolling hour, 80002.
 */
import { GraphFailure, THROTTLE_MESSAGES, fbtrace } from './errors.ts'
import type { EmulatorState, EmulatorUser } from './state.ts'

export interface Usage {
  readonly usageHeaders: (user: EmulatorUser) => Record<string, string>
  /** Throws the 80002 throttle once the user's hourly budget is spent. */
  readonly requireBudget: (user: EmulatorUser) => void
}

export function createUsage(state: EmulatorState): Usage {
  const clock = state.clock

  function usageHeaders(user: EmulatorUser): Record<string, string> {
    const cap = state.settings.callsPerHourPerUser
    const pct = Math.min(100, Math.round((100 * state.callsInLastHour(user.index)) / cap))
    const regain = pct >= 100 ? minutesToRegain(user.index) : 0
    return {
      'x-app-usage': JSON.stringify({
        call_count: pct,
        total_cputime: Math.round(pct / 4),
        total_time: Math.round(pct / 3),
      }),
      'x-business-use-case-usage': JSON.stringify({
        [user.user_id]: [
          {
            type: 'instagram',
            call_count: pct,
            total_cputime: Math.round(pct / 4),
            total_time: Math.round(pct / 3),
            estimated_time_to_regain_access: regain,
          },
        ],
      }),
    }
  }

  function minutesToRegain(userIndex: number): number {
    const since = clock.now() - 3_600_000
    const oldest = state.calls.find((c) => c.userIndex === userIndex && c.at > since)
    return oldest === undefined
      ? 0
      : Math.max(1, Math.ceil((oldest.at + 3_600_000 - clock.now()) / 60_000))
  }

  function requireBudget(user: EmulatorUser): void {
    if (state.callsInLastHour(user.index) >= state.settings.callsPerHourPerUser) {
      const headers = usageHeaders(user)
      throw new GraphFailure(
        400,
        {
          error: {
            message: THROTTLE_MESSAGES[80002],
            type: 'OAuthException',
            is_transient: true,
            code: 80002,
            fbtrace_id: fbtrace(),
          },
        },
        headers,
      )
    }
  }

  return { usageHeaders, requireBudget }
}
