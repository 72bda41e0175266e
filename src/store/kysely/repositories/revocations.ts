/**
 * @module store/kysely/repositories/revocations — `RevocationStore`: grants to revoke at the
 * platform later, queued with the deletion of their account, leased one attempt at a time.
 */
import type { Insertable, Kysely, Selectable } from 'kysely'
import type {
  PendingRevocationInput,
  PendingRevocationRecord,
  RevocationStore,
} from '../../types.ts'
import type { Database, PendingRevocationsTable } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'
import { leaseOwner } from '../../leases.ts'

function toRevocation(row: Selectable<PendingRevocationsTable>): PendingRevocationRecord {
  return {
    ...row,
    attempts: Number(row.attempts),
    next_attempt_at: Number(row.next_attempt_at),
    lease_until: row.lease_until === null ? null : Number(row.lease_until),
    expires_at: Number(row.expires_at),
    created_at: Number(row.created_at),
  }
}

/** The row of a revocation queued after the disconnect's own (first) attempt. */
function queuedRow(revocation: PendingRevocationInput): Insertable<PendingRevocationsTable> {
  return {
    id: revocation.id,
    platform: revocation.platform,
    encrypted_credentials: revocation.encrypted_credentials,
    attempts: 1,
    next_attempt_at: revocation.next_attempt_at,
    lease_until: null,
    lease_owner: null,
    last_error: revocation.last_error,
    expires_at: revocation.expires_at,
    created_at: revocation.now,
  }
}

export function createRevocationRepository(
  db: Kysely<Database>,
  options: Pick<KyselyStoreOptions, 'lockRows'>,
): RevocationStore {
  return {
    async queueRevocation(revocation) {
      await db.insertInto('pending_revocations').values(queuedRow(revocation)).execute()
    },
    async deleteAccountRevokingLater(userId, accountId, revocation) {
      return db.transaction().execute(async (trx) => {
        const deleted = await trx
          .deleteFrom('user_social_accounts')
          .where('id', '=', accountId)
          .where('user_id', '=', userId)
          .executeTakeFirst()
        if (Number(deleted.numDeletedRows) !== 1) return false
        await trx.insertInto('pending_revocations').values(queuedRow(revocation)).execute()
        return true
      })
    },
    async claimDueRevocations(claim) {
      const owner = claim.owner ?? leaseOwner('anonymous')
      return db.transaction().execute(async (trx) => {
        let query = trx
          .selectFrom('pending_revocations')
          .select('id')
          .where('next_attempt_at', '<=', claim.now)
          .where('expires_at', '>', claim.now)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', claim.now)]))
          .orderBy('next_attempt_at')
          .limit(claim.limit)
        if (options.lockRows === true) query = query.forUpdate().skipLocked()
        const due = await query.execute()
        if (due.length === 0) return []
        const rows = await trx
          .updateTable('pending_revocations')
          .set({ lease_until: claim.leaseUntil, lease_owner: owner })
          .where(
            'id',
            'in',
            due.map((r) => r.id),
          )
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', claim.now)]))
          .returningAll()
          .execute()
        return rows.map(toRevocation).sort((a, b) => a.next_attempt_at - b.next_attempt_at)
      })
    },
    async finishRevocation(id, owner) {
      const result = await db
        .deleteFrom('pending_revocations')
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .executeTakeFirst()
      return Number(result.numDeletedRows) === 1
    },
    async retryRevocation(input) {
      const result = await db
        .updateTable('pending_revocations')
        .set({
          attempts: input.attempts,
          next_attempt_at: input.nextAttemptAt,
          last_error: input.lastError,
          lease_until: null,
          lease_owner: null,
        })
        .where('id', '=', input.id)
        .where('lease_owner', '=', input.owner)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async purgeExpiredRevocations(now) {
      const result = await db
        .deleteFrom('pending_revocations')
        .where('expires_at', '<=', now)
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}
