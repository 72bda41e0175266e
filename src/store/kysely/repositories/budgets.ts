/**
 * @module store/kysely/repositories/budgets — `BudgetStore`: sliding-window reservations, usage and
 * blocks.
 */
import type { Kysely } from 'kysely'
import type { BudgetStore } from '../../types.ts'
import type { Database } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'
import { admitCall } from '../../sliding-window.ts'

export function createBudgetRepository(
  db: Kysely<Database>,
  options: KyselyStoreOptions,
): BudgetStore {
  return {
    async reserveApiCall(r) {
      return db.transaction().execute(async (trx) => {
        if (options.lockRows === true) {
          // make sure the row exists, then lock it: concurrent reservations count one by one
          await trx
            .insertInto('api_budgets')
            .values({
              scope: r.scope,
              usage_percent: null,
              usage_at: null,
              blocked_until: null,
              window_start: 0,
              window_calls: 0,
              previous_window_calls: 0,
              updated_at: r.now,
            })
            .onConflict((oc) => oc.column('scope').doNothing())
            .execute()
        }
        // only this scope's row is locked: the blockers (the app-wide row every call reads) are
        // read without a lock, so calls for different accounts never queue behind each other
        let ownRow = trx.selectFrom('api_budgets').selectAll().where('scope', '=', r.scope)
        if (options.lockRows === true) ownRow = ownRow.forUpdate()
        const rows = [
          ...(await ownRow.execute()),
          ...(r.blockedBy.length === 0
            ? []
            : await trx
                .selectFrom('api_budgets')
                .selectAll()
                .where('scope', 'in', [...r.blockedBy])
                .execute()),
        ]
        const blockedUntil = Math.max(0, ...rows.map((row) => row.blocked_until ?? 0))
        if (blockedUntil > r.now)
          return { allowed: false, reason: 'blocked', retryAt: blockedUntil }
        const own = rows.find((row) => row.scope === r.scope)
        const verdict = admitCall(own, r.now, r.windowMs, r.cap)
        if (!verdict.allowed) return { allowed: false, reason: 'cap', retryAt: verdict.retryAt }
        const counts = { ...verdict.counts, updated_at: r.now }
        await trx
          .insertInto('api_budgets')
          .values({
            scope: r.scope,
            usage_percent: null,
            usage_at: null,
            blocked_until: null,
            ...counts,
          })
          .onConflict((oc) => oc.column('scope').doUpdateSet(counts))
          .execute()
        return { allowed: true }
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
      return db
        .selectFrom('api_budgets')
        .select(['scope', 'usage_percent', 'usage_at', 'blocked_until'])
        .where('scope', 'in', [...scopes])
        .execute()
    },
  }
}
