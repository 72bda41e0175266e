/**
 * @module store/kysely/options — what a backend folder tells the shared Kysely query layer about
 * its database: how it reports a unique violation and an outage, whether rows can be locked, and
 * what closing the store must also do.
 */

export interface KyselyStoreOptions {
  /** Recognises the backend's unique-constraint violation. */
  readonly isUniqueViolation: (error: unknown) => boolean
  /** Recognises "the database cannot be reached right now" (answered as ERR_STORE, 503). */
  readonly isUnavailable?: (error: unknown) => boolean
  /**
   * Lock rows read before a dependent write (`SELECT … FOR UPDATE`): needed where transactions
   * really run concurrently (PostgreSQL); SQLite serialises writers and has no such clause.
   */
  readonly lockRows?: boolean
  readonly onClose: () => Promise<void>
}
