/**
 * @module store/kysely/rows — rows to records (the shapes `src/store/types` promises) and the rows
 * new records start from, shared by the repositories.
 */
import type { Insertable, Kysely, Selectable } from 'kysely'
import type {
  MediaRecord,
  MediaType,
  SocialAccountRecord,
  WebhookDeliveryRecord,
  WebhookStatus,
} from '../types.ts'
import { ACCOUNT_STATUSES, MEDIA_VISIBILITIES } from '../types.ts'
import type {
  AccountJobColumns,
  AccountJobsTable,
  Database,
  MediaTable,
  SocialAccountsTable,
  UsersTable,
  WebhookDeliveriesTable,
} from './schema.ts'

/** The sync columns of a new account: never fully reconciled, no media URL expiry known. */
export const NEW_ACCOUNT_SYNC_STATE = {
  last_full_sync: null,
  media_urls_expire_at: null,
  import_fingerprint: null,
} as const

/** The two jobs every OAuth account has (migration 0011), fresh: nothing leased, sync at once. */
export function newAccountJobs(accountId: string): Insertable<AccountJobsTable>[] {
  return (['sync', 'renewal'] as const).map((kind) => ({
    account_id: accountId,
    kind,
    lease_until: null,
    lease_owner: null,
    failures: 0,
    next_run_at: null,
    run_id: null,
    cursor: null,
  }))
}

/** An account with its jobs' state, as `social_accounts_with_jobs` gives it. */
export type AccountRow = Selectable<SocialAccountsTable & AccountJobColumns>

/** The accounts `ids` with their jobs' state (records), read in `db` (e.g. the transaction). */
export async function accountsByIds(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<SocialAccountRecord[]> {
  if (ids.length === 0) return []
  const rows = await db
    .selectFrom('social_accounts_with_jobs')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute()
  const order = new Map(ids.map((id, i) => [id, i]))
  return rows.map(toAccount).sort((x, y) => (order.get(x.id) ?? 0) - (order.get(y.id) ?? 0))
}

/**
 * A user signed in elsewhere (Firebase): its own id, a reserved-domain placeholder e-mail and a
 * password hash that matches no password (not `scrypt$…`).
 */
export function externalUser(id: string, now: number): Omit<UsersTable, 'gallery_version'> {
  return {
    id,
    email: `${id}@users.firebase.invalid`,
    password_hash: '!external',
    created_at: now,
  }
}

const WEBHOOK_STATUSES: readonly WebhookStatus[] = ['pending', 'delivered', 'failed']
const MEDIA_TYPES: readonly MediaType[] = ['IMAGE', 'VIDEO', 'CAROUSEL_ALBUM']

/** `platform_attributes` JSON text as an object of strings (anything else is left out). */
export function parseAttributes(text: string): Readonly<Record<string, string>> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return {}
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  return Object.fromEntries(
    Object.entries(value).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  )
}

export function toAccount(row: AccountRow): SocialAccountRecord {
  const status = ACCOUNT_STATUSES.find((s) => s === row.status) ?? 'error'
  return {
    ...row,
    account_type: row.account_type === 'public' ? 'public' : 'oauth',
    is_active: row.is_active === 1,
    status,
    platform_attributes: parseAttributes(row.platform_attributes),
    credentials_format: row.credentials_format === 2 ? 2 : 1,
    credentials_version: Number(row.credentials_version),
    sync_failures: Number(row.sync_failures),
    renewal_failures: Number(row.renewal_failures),
  }
}

/** The credential columns of an account without credentials (a profile link, an import without). */
export const NO_CREDENTIALS = {
  encrypted_credentials: null,
  credentials_format: 1,
  token_expires_at: null,
  token_issued_at: null,
  refresh_token_expires_at: null,
  credentials_expire_at: null,
} as const

export function toMedia(row: Selectable<MediaTable>): MediaRecord {
  const { seen_sync_id: _seen, created_at: _created, ...rest } = row
  return {
    ...rest,
    media_type: MEDIA_TYPES.find((t) => t === row.media_type) ?? 'IMAGE',
    // an unknown value reads as the most restrictive
    visibility: MEDIA_VISIBILITIES.find((v) => v === row.visibility) ?? 'private',
    duration_seconds: row.duration_seconds === null ? null : Number(row.duration_seconds),
  }
}

export function toWebhook(row: Selectable<WebhookDeliveriesTable>): WebhookDeliveryRecord {
  return { ...row, status: WEBHOOK_STATUSES.find((s) => s === row.status) ?? 'failed' }
}
