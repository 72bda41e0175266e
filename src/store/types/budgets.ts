/**
 * @module store/types/budgets — sliding-window API budgets, and the usage and blocks the provider
 * reports.
 */

/** A sliding-window API budget for one scope (the app, or one account's token). */
export interface ApiCallReservation {
  readonly scope: string
  /** Scopes whose block also stops this call (e.g. the app-wide one). */
  readonly blockedBy: readonly string[]
  /** Calls allowed per window in `scope`; `null` means no cap (only blocks apply). */
  readonly cap: number | null
  readonly windowMs: number
  readonly now: number
}

export type ApiCallVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: 'blocked' | 'cap'; readonly retryAt: number }

export interface ApiBudgetRecord {
  readonly scope: string
  readonly usage_percent: number | null
  readonly usage_at: number | null
  readonly blocked_until: number | null
}

/** API budgets per scope (the app, or one account). */
export interface BudgetStore {
  /**
   * Counts one call against `scope`'s sliding-window cap, unless a block on `scope` or one of
   * `blockedBy` is in force or the cap is reached — all in one atomic step.
   */
  reserveApiCall(reservation: ApiCallReservation): Promise<ApiCallVerdict>
  /** Records the usage Meta reported for a scope and, when throttled, blocks it until a time. */
  recordApiUsage(input: {
    scope: string
    usagePercent: number | null
    blockedUntil: number | null
    now: number
  }): Promise<void>
  getApiBudgets(scopes: readonly string[]): Promise<ApiBudgetRecord[]>
}
