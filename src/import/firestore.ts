/**
 * @module import/firestore — moves the original app's Firestore `user_social_accounts` documents
 * into either backend, so existing users keep their connections without reconnecting.
 *
 * Input: JSON lines, one document per line, in any of the shapes Firestore exports take:
 * - the document's fields at the top level (`{"user_id": …, …}`), optionally with `id`/`__id__`;
 * - `{"id": "…", "data": {…fields}}`;
 * - the REST/typed form `{"name": "…/user_social_accounts/<id>", "fields": {"x": {"stringValue": …}}}`.
 * Timestamps may be `{"_seconds","_nanoseconds"}` (Admin SDK JSON), `{"seconds","nanoseconds"}`
 * (client SDK `toJSON`), `{"seconds","nanos"}` (protobuf JSON), `{"timestampValue": "…"}`,
 * `{"__datatype__":"timestamp","value":{…}}`, ISO 8601 strings (also Python's
 * `2025-01-02 03:04:05.678901+00:00`), or epoch numbers (seconds, or milliseconds above 10^11).
 *
 * Tokens stay as they are (Fernet under the same key) but must decrypt with the configured keys.
 * Idempotent: a record unchanged at the source since its last import is skipped, even if the
 * service has synced or renewed the account since; a changed one updates it, never replacing a
 * token with one that expires sooner. Each bad record gets its own error (line and
 * document id, never the token) and the others go on.
 */
import { createHash } from 'node:crypto'
import type { FernetKeyRing } from '../crypto/fernet.ts'
import {
  ACCOUNT_STATUSES,
  type AccountStatus,
  type ImportOutcome,
  type ImportedAccountInput,
  type Store,
} from '../store/types.ts'

const DAY = 86_400_000
const LONG_LIVED_TOKEN_MS = 60 * DAY

export interface ImportReport {
  created: number
  updated: number
  skipped: number
  invalid: number
  readonly errors: { line: number; id: string | null; message: string }[]
}

class RecordError extends Error {}

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** A Firestore timestamp in any export shape → epoch ms; `null` for null; throws when unreadable. */
export function parseFirestoreTimestamp(value: unknown, field: string): number | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RecordError(`${field} is not a time`)
    return Math.round(value > 1e11 ? value : value * 1000)
  }
  if (typeof value === 'string') {
    const iso = value
      .trim()
      .replace(' ', 'T')
      .replace(/(\.\d{3})\d+/, '$1')
    const ms = Date.parse(iso)
    if (Number.isNaN(ms)) throw new RecordError(`${field} is not a date ("${value.slice(0, 40)}")`)
    return ms
  }
  if (isObject(value)) {
    if ('timestampValue' in value) return parseFirestoreTimestamp(value.timestampValue, field)
    if (value.__datatype__ === 'timestamp') return parseFirestoreTimestamp(value.value, field)
    const seconds = value._seconds ?? value.seconds
    const nanos = value._nanoseconds ?? value.nanoseconds ?? value.nanos ?? 0
    const s = typeof seconds === 'string' && /^-?\d+$/.test(seconds) ? Number(seconds) : seconds
    if (typeof s === 'number' && Number.isInteger(s) && typeof nanos === 'number') {
      return s * 1000 + Math.floor(nanos / 1e6)
    }
  }
  throw new RecordError(`${field} is not a Firestore timestamp`)
}

/** Decodes a REST `Value` (`{"stringValue": …}`, `{"integerValue": "42"}`, …) to plain JSON. */
function decodeValue(value: unknown): unknown {
  if (!isObject(value)) return value
  if ('stringValue' in value) return value.stringValue
  if ('integerValue' in value) return Number(value.integerValue)
  if ('doubleValue' in value) return Number(value.doubleValue)
  if ('booleanValue' in value) return value.booleanValue
  if ('nullValue' in value) return null
  if ('timestampValue' in value) return value // parsed as a timestamp where one is expected
  if (isObject(value.mapValue)) return decodeFields(value.mapValue.fields)
  if (isObject(value.arrayValue))
    return Array.isArray(value.arrayValue.values) ? value.arrayValue.values.map(decodeValue) : []
  return value
}

function decodeFields(fields: unknown): Json {
  const out: Json = {}
  if (isObject(fields))
    for (const [key, value] of Object.entries(fields)) out[key] = decodeValue(value)
  return out
}

/** The document id and fields of one exported line, whatever its shape. */
export function decodeDocument(line: unknown): { id: string | null; fields: Json } {
  if (!isObject(line)) throw new RecordError('the line is not a JSON object')
  if (isObject(line.fields) && typeof line.name === 'string') {
    return { id: line.name.split('/').pop() ?? null, fields: decodeFields(line.fields) }
  }
  const id = [line.id, line.__id__, line._id].find((v): v is string => typeof v === 'string')
  if (isObject(line.data)) return { id: id ?? null, fields: line.data }
  return { id: id ?? null, fields: line }
}

function text(fields: Json, name: string, required: boolean): string | null {
  const value = fields[name]
  if (value === undefined || value === null || value === '') {
    if (required) throw new RecordError(`${name} is missing`)
    return null
  }
  if (typeof value === 'number' && name.endsWith('_id')) {
    // ids above 2^53 lose digits as JSON numbers: only safe integers are accepted
    if (!Number.isSafeInteger(value))
      throw new RecordError(`${name} is a number too large to be exact; export ids as strings`)
    return String(value)
  }
  if (typeof value !== 'string') throw new RecordError(`${name} must be a string`)
  return value
}

/** One document → the record to store; throws RecordError with a message for people. */
export function toImportedAccount(
  fields: Json,
  vault: FernetKeyRing,
  now: number,
): ImportedAccountInput {
  const platform = text(fields, 'platform', false) ?? 'instagram'
  if (platform !== 'instagram')
    throw new RecordError(`platform "${platform}" is not supported (only instagram)`)
  const accountType = text(fields, 'account_type', false) ?? 'oauth'
  if (accountType !== 'oauth' && accountType !== 'public')
    throw new RecordError('account_type must be "oauth" or "public"')
  const username = text(fields, 'username', true) ?? ''
  if (!/^[A-Za-z0-9._]{1,30}$/.test(username))
    throw new RecordError('username is not an Instagram username')
  const token = text(fields, 'encrypted_access_token', false)
  const expiresAt = parseFirestoreTimestamp(fields.token_expires_at, 'token_expires_at')
  const instagramUserId = text(fields, 'instagram_user_id', accountType === 'oauth')
  if (accountType === 'oauth') {
    if (token === null) throw new RecordError('encrypted_access_token is missing')
    try {
      vault.decrypt(token)
    } catch {
      throw new RecordError(
        'encrypted_access_token does not decrypt with SOCIAL_TOKEN_ENCRYPTION_KEY (wrong key, or not a Fernet token)',
      )
    }
    if (expiresAt === null) throw new RecordError('token_expires_at is missing')
  }
  const postsCount = fields.posts_count
  if (postsCount !== undefined && postsCount !== null && !Number.isSafeInteger(postsCount))
    throw new RecordError('posts_count must be a whole number')
  const isActive = fields.is_active
  if (isActive !== undefined && typeof isActive !== 'boolean')
    throw new RecordError('is_active must be true or false')
  const given = text(fields, 'status', false)
  let status: AccountStatus = ACCOUNT_STATUSES.find((s) => s === given) ?? 'active'
  let statusMessage = text(fields, 'status_message', false)
  if (accountType === 'oauth' && expiresAt !== null && expiresAt <= now) {
    status = 'reauth_required'
    statusMessage = 'The Instagram token had expired before the import; reconnect the account'
  }
  return {
    user_id: text(fields, 'user_id', true) ?? '',
    platform,
    account_type: accountType,
    username,
    display_name: text(fields, 'display_name', false) ?? `@${username}`,
    platform_user_id: instagramUserId,
    encrypted_access_token: accountType === 'oauth' ? token : null,
    token_expires_at: accountType === 'oauth' ? expiresAt : null,
    // the original app did not store it: a long-lived token lives 60 days
    token_issued_at:
      accountType === 'oauth' && expiresAt !== null
        ? Math.min(now, expiresAt - LONG_LIVED_TOKEN_MS)
        : null,
    is_active: isActive ?? true,
    connected_at: parseFirestoreTimestamp(fields.connected_at, 'connected_at') ?? now,
    last_sync: parseFirestoreTimestamp(fields.last_sync, 'last_sync'),
    posts_count: typeof postsCount === 'number' ? postsCount : null,
    status,
    status_message: statusMessage,
    profile_url:
      text(fields, 'profile_url', false) ??
      `https://www.instagram.com/${encodeURIComponent(username)}/`,
    import_fingerprint: fingerprint(fields),
    now,
  }
}

/** SHA-256 of the source document's fields, keys sorted at every level. */
function fingerprint(fields: Json): string {
  const canonical = (value: unknown): unknown =>
    isObject(value)
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((key) => [key, canonical(value[key])]),
        )
      : Array.isArray(value)
        ? value.map(canonical)
        : value
  return createHash('sha256')
    .update(JSON.stringify(canonical(fields)))
    .digest('hex')
}

export interface ImportDeps {
  readonly store: Store
  readonly vault: FernetKeyRing
  readonly now: number
  readonly dryRun: boolean
}

/** Imports every line; a bad line is reported and skipped, the rest goes on. */
export async function importFirestoreExport(
  lines: AsyncIterable<string> | Iterable<string>,
  deps: ImportDeps,
): Promise<ImportReport> {
  const report: ImportReport = { created: 0, updated: 0, skipped: 0, invalid: 0, errors: [] }
  let lineNumber = 0
  for await (const raw of lines) {
    lineNumber++
    const line = raw.trim()
    if (line === '') continue
    let id: string | null = null
    try {
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch {
        throw new RecordError('the line is not valid JSON')
      }
      const document = decodeDocument(parsed)
      id = document.id
      const record = toImportedAccount(document.fields, deps.vault, deps.now)
      const outcome: ImportOutcome = await deps.store.importAccount(record, deps.dryRun)
      if (outcome === 'unchanged') report.skipped++
      else report[outcome]++
    } catch (error) {
      if (!(error instanceof RecordError)) throw error
      report.invalid++
      report.errors.push({ line: lineNumber, id, message: error.message })
    }
  }
  return report
}
