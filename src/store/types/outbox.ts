/**
 * @module store/types/outbox — outgoing webhook deliveries, their leases and retries.
 */
import type { SyncClaim } from './jobs.ts'

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
  /** Leases up to `limit` pending deliveries whose next attempt is due. */
  claimDueWebhooks(claim: SyncClaim): Promise<WebhookDeliveryRecord[]>
  finishWebhookAttempt(input: {
    id: string
    status: WebhookStatus
    attempts: number
    nextAttemptAt: number
    lastError: string | null
    now: number
  }): Promise<void>
}
