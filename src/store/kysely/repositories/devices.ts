/**
 * @module store/kysely/repositories/devices — `DeviceStore`: the browsers each user signed in from.
 */
import type { Kysely } from 'kysely'
import type { DeviceStore } from '../../types.ts'
import type { Database } from '../schema.ts'

export function createDeviceRepository(db: Kysely<Database>): DeviceStore {
  return {
    async rememberDevice(input) {
      await db
        .insertInto('known_devices')
        .values({
          digest: input.digest,
          user_id: input.user_id,
          created_at: input.now,
          last_seen_at: input.now,
        })
        .onConflict((oc) =>
          oc
            .column('digest')
            .doUpdateSet({ last_seen_at: input.now })
            .where('known_devices.user_id', '=', input.user_id),
        )
        .execute()
    },
    async isKnownDevice(digest, userId) {
      const row = await db
        .selectFrom('known_devices')
        .select('user_id')
        .where('digest', '=', digest)
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return row !== undefined
    },
  }
}
