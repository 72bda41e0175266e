/**
 * @module store/types/outbox — outgoing webhook deliveries, their leases and retries.
 */
import type { SyncClaim } from './jobs.ts'
import type { SocialAccountRecord } from './accounts.ts'

/** The events of the account state machine that webhooks report. */
export type AccountEventType = 'account.connected' | 'account.reauth_required' | 'account.revoked'
export type EventType = AccountEventType | 'data.deleted'

/** One outbox row: the exact JSON body that is signed and sent, under its event id. */
export interface OutboxEvent {
  readonly id: string
  readonly event_type: EventType
  readonly payload: string
}

/**
 * Makes events from the change actually made (the rows an `UPDATE … RETURNING` gave back), so a
 * store writes them in the same transaction as the change: a crash loses neither, and one
 * transition makes one event. Passed to the writes that report state changes; `null` (or left
 * out) when webhooks are off.
 */
export interface EventMaker {
  account(type: AccountEventType, account: SocialAccountRecord, now: number): OutboxEvent
  dataDeleted(data: Readonly<Record<string, unknown>>, now: number): OutboxEvent
}

/** A claim of due deliveries: `SyncClaim`'s fields (the lease each claimed delivery takes). */
export type WebhookClaim = SyncClaim

export type WebhookStatus = 'pending' | 'delivered' | 'failed'

export interface WebhookDeliveryRecord {
  readonly id: string
  readonly event_type: string
  /** The exact JSON body that is signed and sent. */
  readonly payload: string
  readonly status: WebhookStatus
  readonly attempts: number
  readonly next_attempt_at: number
  readonly lease_until: number | null
  /** Who holds the lease, `<instance id>:<run id>` (one attempt); `null` when nobody does. */
  readonly lease_owner: string | null
  readonly last_error: string | null
  readonly created_at: number
  readonly updated_at: number
}

/** The queue of outgoing webhook deliveries. */
export interface OutboxStore {
  enqueueWebhook(input: {
    id: string
    event_type: string
    payload: string
    now: number
  }): Promise<void>
  /**
   * Leases up to `limit` pending deliveries whose next attempt is due, to `claim.owner`; two
   * concurrent claims never return the same delivery, and (PostgreSQL: `FOR UPDATE SKIP LOCKED`)
   * neither comes back empty while due deliveries are left.
   */
  claimDueWebhooks(claim: WebhookClaim): Promise<WebhookDeliveryRecord[]>
  /**
   * Records an attempt's outcome and releases its lease — with `owner`, only if that owner still
   * holds the lease (a late finish after a takeover changes nothing: it cannot undo "delivered"
   * or lose an attempt). Returns whether it applied.
   */
  finishWebhookAttempt(input: {
    id: string
    owner?: string
    status: WebhookStatus
    attempts: number
    nextAttemptAt: number
    lastError: string | null
    now: number
  }): Promise<boolean>
}
