/**
 * @module store/kysely/repositories/budgets — `BudgetStore`: reservations against rolling and fixed
 * windows (several at once, all or none), usage and blocks.
 */
import { sql, type Kysely } from 'kysely'
import type { ApiCallVerdict, BudgetStore } from '../../types.ts'
import type { Database } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'
import { admitCall, admitFixedWindowCall } from '../../sliding-window.ts'

export function createBudgetRepository(
  db: Kysely<Database>,
  options: KyselyStoreOptions,
): BudgetStore {
  return {
    async reserveApiCall(r) {
      const scopes = r.parts.map((part) => part.scope)
      if (new Set(scopes).size !== scopes.length)
        throw new Error(`reserveApiCall: a scope named twice (${scopes.join(', ')})`)
      if (scopes.length === 0) throw new Error('reserveApiCall: no part')
      // rows are created and locked in one order (by scope), so two reservations sharing parts
      // cannot each hold one row and wait for the other's
      const sorted = [...scopes].sort()
      return db.transaction().execute(async (trx): Promise<ApiCallVerdict> => {
        if (options.lockRows === true) {
          // make sure the rows exist, then lock them: concurrent reservations count one by one
          await trx
            .insertInto('api_budgets')
            .values(
              sorted.map((scope) => ({
                scope,
                usage_percent: null,
                usage_at: null,
                blocked_until: null,
                window_start: 0,
                window_calls: 0,
                previous_window_calls: 0,
                updated_at: r.now,
              })),
            )
            .onConflict((oc) => oc.column('scope').doNothing())
            .execute()
        }
        // only the parts' rows are locked: the blockers (the app-wide row every call reads) are
        // read without a lock, so calls for different accounts never queue behind each other
        let ownRows = trx
          .selectFrom('api_budgets')
          .selectAll()
          .where('scope', 'in', sorted)
          .orderBy('scope')
        if (options.lockRows === true) ownRows = ownRows.forUpdate()
        const blockers = r.blockedBy.filter((scope) => !scopes.includes(scope))
        const rows = [
          ...(await ownRows.execute()),
          ...(blockers.length === 0
            ? []
            : await trx
                .selectFrom('api_budgets')
                .selectAll()
                .where('scope', 'in', blockers)
                .execute()),
        ]
        const blockedUntil = Math.max(0, ...rows.map((row) => row.blocked_until ?? 0))
        if (blockedUntil > r.now)
          return { allowed: false, reason: 'blocked', retryAt: blockedUntil }
        const verdicts = r.parts.map((part) => {
          const own = rows.find((row) => row.scope === part.scope)
          const cost = part.cost ?? 1
          return part.window.kind === 'rolling'
            ? admitCall(own, r.now, part.window.ms, part.cap, cost)
            : admitFixedWindowCall(own, part.window, part.cap, cost)
        })
        // refused: the part that frees up last says when the whole call fits
        let refusal: { part: number; retryAt: number } | null = null
        for (const [part, verdict] of verdicts.entries())
          if (!verdict.allowed && (refusal === null || verdict.retryAt > refusal.retryAt))
            refusal = { part, retryAt: verdict.retryAt }
        if (refusal !== null) return { allowed: false, reason: 'cap', ...refusal }
        for (const [i, verdict] of verdicts.entries()) {
          if (!verdict.allowed) continue
          const counts = { ...verdict.counts, updated_at: r.now }
          await trx
            .insertInto('api_budgets')
            .values({
              scope: scopes[i] as string,
              usage_percent: null,
              usage_at: null,
              blocked_until: null,
              ...counts,
            })
            .onConflict((oc) => oc.column('scope').doUpdateSet(counts))
            .execute()
        }
        return { allowed: true }
      })
    },
    async refundApiCall(input) {
      await db.transaction().execute(async (trx) => {
        for (const part of input.parts) {
          if (!(part.units > 0)) continue
          const start =
            part.window.kind === 'fixed'
              ? part.window.start
              : Math.floor(input.now / part.window.ms) * part.window.ms
          await trx
            .updateTable('api_budgets')
            .set({
              window_calls: sql<number>`case when window_calls > ${part.units} then window_calls - ${part.units} else 0 end`,
              updated_at: input.now,
            })
            .where('scope', '=', part.scope)
            .where('window_start', '=', start)
            .execute()
        }
      })
    },
    async recordApiUsage(input) {
      const changes = {
        ...(input.usagePercent === null
          ? {}
          : { usage_percent: input.usagePercent, usage_at: input.now }),
        ...(input.blockedUntil === null ? {} : { blocked_until: input.blockedUntil }),
        updated_at: input.now,
      }
      await db
        .insertInto('api_budgets')
        .values({
          scope: input.scope,
          usage_percent: input.usagePercent,
          usage_at: input.usagePercent === null ? null : input.now,
          blocked_until: input.blockedUntil,
          window_start: 0,
          window_calls: 0,
          previous_window_calls: 0,
          updated_at: input.now,
        })
        .onConflict((oc) => oc.column('scope').doUpdateSet(changes))
        .execute()
    },
    async getApiBudgets(scopes) {
      if (scopes.length === 0) return []
      const rows = await db
        .selectFrom('api_budgets')
        .select([
          'scope',
          'usage_percent',
          'usage_at',
          'blocked_until',
          'window_start',
          'window_calls',
        ])
        .where('scope', 'in', [...scopes])
        .execute()
      // PostgreSQL's BIGINT columns arrive as strings
      return rows.map((row) => ({
        ...row,
        window_start: Number(row.window_start),
        window_calls: Number(row.window_calls),
      }))
    },
  }
}
