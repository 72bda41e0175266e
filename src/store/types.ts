/**
 * @module store/types — the storage interface every backend implements, one role interface per
 * aggregate (`src/store/types/*.ts`); `Store` is all of them. A service that needs only a part
 * can depend on that part (`BudgetStore`, `JobStore`, …). Every existing import of this module
 * keeps working: it re-exports everything in the folder.
 *
 * Conventions, checked by the shared conformance suite (test/store/conformance/):
 * - Times are Unix epoch milliseconds (numbers). Ids are opaque strings made by the store.
 * - A lookup that finds nothing returns `null`; nothing is swallowed: store failures throw.
 * - A uniqueness violation throws `GalleryError('ERR_CONFLICT')`.
 * - Every multi-row change happens in one transaction.
 * - Deleting an account deletes its media, and deleting an album its children, through the
 *   schema's `ON DELETE CASCADE` foreign keys (which every backend must declare and enforce).
 * - Records keep the original app's snake_case field names (`user_social_accounts`).
 */
import type { UserStore } from './types/users.ts'
import type { SessionStore } from './types/sessions.ts'
import type { DeviceStore } from './types/devices.ts'
import type { OAuthStateStore } from './types/oauth-states.ts'
import type { AccountStore } from './types/accounts.ts'
import type { MediaStore } from './types/media.ts'
import type { DeletionStore } from './types/deletions.ts'
import type { JobStore } from './types/jobs.ts'
import type { BudgetStore } from './types/budgets.ts'
import type { OutboxStore } from './types/outbox.ts'
import type { RevocationStore } from './types/revocations.ts'
import type { MaintenanceStore } from './types/maintenance.ts'
import type { ArchiveLinkStore, ArchiveStore } from './types/archive.ts'
import type { ArchiveQuotaStore } from './types/archive-quota.ts'

export * from './types/users.ts'
export * from './types/sessions.ts'
export * from './types/devices.ts'
export * from './types/oauth-states.ts'
export * from './types/accounts.ts'
export * from './types/media.ts'
export * from './types/deletions.ts'
export * from './types/jobs.ts'
export * from './types/budgets.ts'
export * from './types/outbox.ts'
export * from './types/revocations.ts'
export * from './types/maintenance.ts'
export * from './types/archive.ts'
export * from './types/archive-quota.ts'

export type Store = UserStore &
  SessionStore &
  DeviceStore &
  OAuthStateStore &
  AccountStore &
  MediaStore &
  DeletionStore &
  JobStore &
  BudgetStore &
  OutboxStore &
  RevocationStore &
  MaintenanceStore &
  ArchiveStore &
  ArchiveLinkStore &
  ArchiveQuotaStore
