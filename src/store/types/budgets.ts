/**
 * @module store/types/budgets — API budgets (rolling and fixed windows, costs in units, several
 * windows per call), and the usage and blocks the provider reports.
 */

/**
 * The window a budget part counts in. `rolling`: the last `ms` milliseconds, estimated by the
 * sliding-window counter over aligned windows of `ms` (`store/sliding-window.ts`). `fixed`: the
 * window from `start` (included) to `end` (excluded), epoch milliseconds, computed by the caller
 * (`socials/budget-windows.ts`: a day from midnight Pacific time, a month); a new window starts
 * from zero, and the store needs nothing but the bounds.
 */
export type ReservationWindow =
  | { readonly kind: 'rolling'; readonly ms: number }
  | { readonly kind: 'fixed'; readonly start: number; readonly end: number }

/**
 * One budget a call counts against: a row of `api_budgets`, keyed by `scope`. A scope counts one
 * window; a platform with several windows on one scope (X: 15 minutes and a month on the app)
 * names one part per window, the extra ones keyed `${scope}:${budgetName}`.
 */
export interface ApiCallPart {
  readonly scope: string
  readonly window: ReservationWindow
  /** Units allowed per window; `null` means no cap (counted; only blocks apply). */
  readonly cap: number | null
  /** Units this call spends (default 1). */
  readonly cost?: number
}

/**
 * A call to count against every one of `parts` — all admitted or none, in one transaction — unless
 * a block on a part's scope or on one of `blockedBy` is in force. Scopes must be distinct.
 *
 * Rolling parts are admitted while the sliding estimate plus `cost` stays within `cap`; fixed
 * parts while the units spent in the window plus `cost` do (a refusal's `retryAt` is then the
 * window's end). A refused call spends nothing anywhere.
 */
export interface ApiCallReservation {
  readonly parts: readonly ApiCallPart[]
  /** Scopes whose block also stops this call (e.g. the app-wide one). */
  readonly blockedBy: readonly string[]
  readonly now: number
}

/**
 * `blocked`: a block is in force until `retryAt`. `cap`: `parts[part]` has no room for the call
 * until `retryAt` (the refusing part that frees up last, when several refuse; every other part
 * has room by then too, as no calls are counted meanwhile).
 */
export type ApiCallVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: 'blocked'; readonly retryAt: number }
  | {
      readonly allowed: false
      readonly reason: 'cap'
      readonly retryAt: number
      /** The index in `parts` of the budget that ran out. */
      readonly part: number
    }

export interface ApiBudgetRecord {
  readonly scope: string
  readonly usage_percent: number | null
  readonly usage_at: number | null
  readonly blocked_until: number | null
  /** The counted window's start (a fixed window's `start`) and the units spent in it. */
  readonly window_start: number
  readonly window_calls: number
}

/** API budgets per scope (the app, or one account). */
export interface BudgetStore {
  /**
   * Counts one call against every part of `reservation` (its cost in each), unless a block on a
   * part's scope or one of `blockedBy` is in force or a part has no room — all in one atomic step
   * (on PostgreSQL the parts' rows are locked, so concurrent reservations never over-spend).
   */
  reserveApiCall(reservation: ApiCallReservation): Promise<ApiCallVerdict>
  /**
   * Gives back units a call was charged up front beyond what it spent (a page of 3 posts charged
   * as 100): each part's count drops by its `units`, never below zero, and only while the part's
   * window is still the one `window` names (a fixed window's `start`, a rolling window's aligned
   * start at `now`) — a refund never reaches into another window.
   */
  refundApiCall(input: {
    parts: readonly { scope: string; window: ReservationWindow; units: number }[]
    now: number
  }): Promise<void>
  /** Records the usage Meta reported for a scope and, when throttled, blocks it until a time. */
  recordApiUsage(input: {
    scope: string
    usagePercent: number | null
    blockedUntil: number | null
    now: number
  }): Promise<void>
  getApiBudgets(scopes: readonly string[]): Promise<ApiBudgetRecord[]>
}
