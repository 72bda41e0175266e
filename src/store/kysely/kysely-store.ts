/**
 * @module store/kysely/kysely-store — the `Store` implemented once on Kysely, shared by every SQL
 * backend. A backend folder supplies the dialect, its migrations and its error mapping.
 *
 * One repository per aggregate (`repositories/*.ts`), each implementing its role interface of
 * `src/store/types/`; this module composes them and, where the backend can tell an outage,
 * reports outages as one retryable error (`outage.ts`). Shared row mappers are in `rows.ts`; the
 * pure arithmetic of budgets and media pages in `src/store/{sliding-window,media-diff}.ts`.
 */
import type { Kysely } from 'kysely'
import type { Store } from '../types.ts'
import type { Database } from './schema.ts'
import type { KyselyStoreOptions } from './options.ts'
import { reportingOutages } from './outage.ts'
import { createUserRepository } from './repositories/users.ts'
import { createSessionRepository } from './repositories/sessions.ts'
import { createDeviceRepository } from './repositories/devices.ts'
import { createOAuthStateRepository } from './repositories/oauth-states.ts'
import { createAccountRepository } from './repositories/accounts.ts'
import { createMediaRepository } from './repositories/media.ts'
import { createDeletionRepository } from './repositories/deletions.ts'
import { createJobRepository } from './repositories/jobs.ts'
import { createBudgetRepository } from './repositories/budgets.ts'
import { createOutboxRepository } from './repositories/outbox.ts'
import { createRevocationRepository } from './repositories/revocations.ts'
import { createMaintenanceRepository } from './repositories/maintenance.ts'
import { createArchiveRepository, toArchive } from './repositories/archive.ts'
import { createArchiveLinkRepository } from './repositories/archive-links.ts'
import { createArchiveQuotaRepository } from './repositories/archive-quota.ts'

export type { KyselyStoreOptions } from './options.ts'

export function createKyselyStore(db: Kysely<Database>, options: KyselyStoreOptions): Store {
  const store: Store = {
    ...createUserRepository(db, options),
    ...createSessionRepository(db),
    ...createDeviceRepository(db),
    ...createOAuthStateRepository(db),
    ...createAccountRepository(db, options),
    ...createMediaRepository(db, options),
    ...createDeletionRepository(db),
    ...createJobRepository(db, options),
    ...createBudgetRepository(db, options),
    ...createOutboxRepository(db, options),
    ...createRevocationRepository(db, options),
    ...createMaintenanceRepository(db, options),
    ...createArchiveRepository(db, options),
    ...createArchiveLinkRepository(db, options, toArchive),
    ...createArchiveQuotaRepository(db),
  }
  return options.isUnavailable === undefined
    ? store
    : reportingOutages(store, options.isUnavailable)
}
