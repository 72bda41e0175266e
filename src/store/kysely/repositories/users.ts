/**
 * @module store/kysely/repositories/users — `UserStore`: password users and users signed in
 * elsewhere.
 */
import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { UserRecord, UserStore } from '../../types.ts'
import type { Database } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'
import { conflict } from '../conflict.ts'
import { externalUser } from '../rows.ts'

export function createUserRepository(db: Kysely<Database>, options: KyselyStoreOptions): UserStore {
  return {
    async createUser({ email, password_hash, now }) {
      const record: UserRecord = { id: randomUUID(), email, password_hash, created_at: now }
      try {
        await db.insertInto('users').values(record).execute()
      } catch (error) {
        conflict(options, error, 'A user with this email already exists')
      }
      return record
    },
    async findUserByEmail(email) {
      return (
        (await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst()) ??
        null
      )
    },
    async findUserById(id) {
      return (
        (await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()) ?? null
      )
    },

    async ensureExternalUser(id, now) {
      const result = await db
        .insertInto('users')
        .values(externalUser(id, now))
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1
    },
  }
}
