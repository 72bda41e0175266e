/**
 * @module store/kysely/rows — rows to records (the shapes `src/store/types` promises) and the rows
 * new records start from, shared by the repositories.
 */
import type { Selectable } from 'kysely'
import type {
  MediaRecord,
  MediaType,
  SocialAccountRecord,
  WebhookDeliveryRecord,
  WebhookStatus,
} from '../types.ts'
import { ACCOUNT_STATUSES } from '../types.ts'
import type {
  MediaTable,
  SocialAccountsTable,
  UsersTable,
  WebhookDeliveriesTable,
} from './schema.ts'

/** The job-state columns of a new account: nothing leased, nothing failed, sync as soon as can be. */
export const NEW_ACCOUNT_JOB_STATE = {
  renew_lease_until: null,
  renew_lease_owner: null,
  renewal_failures: 0,
  next_sync_at: null,
  sync_lease_until: null,
  sync_lease_owner: null,
  sync_failures: 0,
  last_full_sync: null,
  sync_run_id: null,
  sync_cursor: null,
  media_urls_expire_at: null,
  import_fingerprint: null,
} as const
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

export function toAccount(row: Selectable<SocialAccountsTable>): SocialAccountRecord {
  const status = ACCOUNT_STATUSES.find((s) => s === row.status) ?? 'error'
  return {
    ...row,
    account_type: row.account_type === 'public' ? 'public' : 'oauth',
    is_active: row.is_active === 1,
    status,
    platform_attributes: parseAttributes(row.platform_attributes),
    credentials_format: row.credentials_format === 2 ? 2 : 1,
    credentials_version: Number(row.credentials_version),
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
  return { ...rest, media_type: MEDIA_TYPES.find((t) => t === row.media_type) ?? 'IMAGE' }
}

export function toWebhook(row: Selectable<WebhookDeliveriesTable>): WebhookDeliveryRecord {
  return { ...row, status: WEBHOOK_STATUSES.find((s) => s === row.status) ?? 'failed' }
}
