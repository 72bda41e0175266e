/**
 * @module store/kysely/repositories/outbox — `OutboxStore`: webhook deliveries, leased and retried.
 */
import type { Kysely } from 'kysely'
import type {
  AccountEventType,
  EventMaker,
  OutboxEvent,
  OutboxStore,
  SocialAccountRecord,
} from '../../types.ts'
import { leaseOwner } from '../../leases.ts'
import type { Database } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'
import { toWebhook } from '../rows.ts'

/**
 * Writes events into the outbox on `db` — the transaction of the change they report, so that
 * both commit or neither does.
 */
export async function insertEvents(
  db: Kysely<Database>,
  events: readonly OutboxEvent[],
  now: number,
): Promise<void> {
  if (events.length === 0) return
  await db
    .insertInto('webhook_deliveries')
    .values(
      events.map((event) => ({
        id: event.id,
        event_type: event.event_type,
        payload: event.payload,
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        lease_until: null,
        lease_owner: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      })),
    )
    .execute()
}

/**
 * Writes one `type` event per account, made from the accounts as the change left them, in the
 * change's transaction `db`; nothing when webhooks are off (`events` absent).
 */
export async function insertAccountEvents(
  db: Kysely<Database>,
  events: EventMaker | null | undefined,
  type: AccountEventType,
  accounts: readonly SocialAccountRecord[],
  now: number,
): Promise<void> {
  if (events == null) return
  await insertEvents(
    db,
    accounts.map((account) => events.account(type, account, now)),
    now,
  )
}

export function createOutboxRepository(
  db: Kysely<Database>,
  options: Pick<KyselyStoreOptions, 'lockRows'> = {},
): OutboxStore {
  return {
    async enqueueWebhook(input) {
      await insertEvents(
        db,
        [
          {
            id: input.id,
            event_type: input.event_type as OutboxEvent['event_type'],
            payload: input.payload,
          },
        ],
        input.now,
      )
    },
    async claimDueWebhooks(claim) {
      const owner = claim.owner ?? leaseOwner('anonymous')
      return db.transaction().execute(async (trx) => {
        // PostgreSQL: concurrent claimers skip each other's rows instead of coming back empty
        let query = trx
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', claim.now)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', claim.now)]))
          .orderBy('next_attempt_at')
          .orderBy('created_at')
          .limit(claim.limit)
        if (options.lockRows === true) query = query.forUpdate().skipLocked()
        const due = await query.execute()
        if (due.length === 0) return []
        const rows = await trx
          .updateTable('webhook_deliveries')
          .set({ lease_until: claim.leaseUntil, lease_owner: owner })
          .where(
            'id',
            'in',
            due.map((r) => r.id),
          )
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', claim.now)]))
          .returningAll()
          .execute()
        return rows.map(toWebhook).sort((a, b) => a.created_at - b.created_at)
      })
    },
    async finishWebhookAttempt(input) {
      const result = await db
        .updateTable('webhook_deliveries')
        .set({
          status: input.status,
          attempts: input.attempts,
          next_attempt_at: input.nextAttemptAt,
          last_error: input.lastError,
          lease_until: null,
          lease_owner: null,
          updated_at: input.now,
        })
        .where('id', '=', input.id)
        .$if(input.owner !== undefined, (q) => q.where('lease_owner', '=', input.owner ?? ''))
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
  }
}
