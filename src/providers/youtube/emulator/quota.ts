/**
 * @module providers/youtube/emulator/quota — the project's Data API quota: `dailyQuotaUnits` per
 * client id per day, midnight to midnight America/Los_Angeles on the emulator's clock (DST-aware:
 * `dayAt` of `socials/budget-windows.ts`, the same day the app's budget counts in). Every list
 * call that gets past authentication costs 1 unit, also when it then fails with a 4xx (Google:
 * invalid requests still cost at least one unit); once the day's units are spent, calls answer
 * 403 `quotaExceeded` (domain `youtube.quota`) and cost nothing. OAuth endpoints, the CDN and
 * the web routes are not metered.
 */
import { quotaExceeded, type CallContext } from './errors.ts'
import type { YoutubeEmulatorState } from './state.ts'

/** What one list call costs (`channels`, `playlistItems`, `videos`). */
export const LIST_COST = 1

/** Spends `units` for the call, or throws `quotaExceeded` when today's quota cannot cover them. */
export function chargeQuota(
  state: YoutubeEmulatorState,
  ctx: CallContext,
  units = LIST_COST,
): void {
  if (state.quotaUsedToday() + units > state.settings.dailyQuotaUnits) throw quotaExceeded()
  state.spendQuota(units)
  ctx.cost += units
}
