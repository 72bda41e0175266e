/**
 * @module webhooks/webhooks — optional outgoing webhooks: when an account is connected, needs
 * reconnecting or is revoked, and when social data is deleted, a signed JSON POST goes to
 * `WEBHOOK_URL`.
 *
 * Events are written to an outbox table first (`webhook_deliveries`), then delivered in the
 * background and by every jobs run, so a restart or an unreachable receiver loses nothing.
 * Retries back off (1 min, 5 min, 30 min, 2 h, 6 h, 12 h); after 7 failed attempts the delivery is
 * marked `failed`. Deliveries are at-least-once: receivers deduplicate on the event `id`.
 *
 * Each attempt takes a lease of its own on its delivery, named by its owner (`<instance id>:<run
 * id>`), just before it is sent, for twice the request timeout; its outcome is written only while
 * it still holds that lease, so a late finish cannot undo "delivered" or lose an attempt (review
 * D6). Up to `DELIVERY_CONCURRENCY` attempts run at once.
 *
 * Signature: Standard Webhooks (https://www.standardwebhooks.com), signed with the
 * `standardwebhooks` package. `webhook-id` is the event id (the same on every retry),
 * `webhook-timestamp` the Unix seconds of this attempt, and `webhook-signature` holds one
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">` per configured secret, separated by
 * spaces, so secrets can be rotated. Key of each secret: see `./secrets.ts`. Payloads never hold
 * tokens.
 *
 * Deprecated, sent for one more release: `X-Phoenix-Event`, `X-Phoenix-Delivery` (the event id,
 * unsigned) and the Stripe-like `X-Phoenix-Signature: t=<unix seconds>,v1=<hex>` where
 * `v1 = HMAC-SHA256(<first secret, as written>, "<t>.<raw body>")`.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { drainClaims } from '../socials/claim-pool.ts'
import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../clock.ts'
import type {
  EventMaker,
  EventType,
  OutboxEvent,
  SocialAccountRecord,
  Store,
} from '../store/types.ts'
import { leaseOwner, newInstanceId } from '../store/leases.ts'
import { toWhsec } from './secrets.ts'
import type { FetchLike } from '../providers/types.ts'

export type WebhookEventType = EventType

/** An event's outbox row: `{id, type, created_at, data}` is the exact body signed and sent. */
function makeEvent(
  type: WebhookEventType,
  data: Readonly<Record<string, unknown>>,
  now: number,
): OutboxEvent {
  const id = `evt_${randomUUID()}`
  const payload = JSON.stringify({ id, type, created_at: new Date(now).toISOString(), data })
  return { id, event_type: type, payload }
}

/** An account event's data: the account's public fields as the change left them (no token). */
function accountEventData(account: SocialAccountRecord): Record<string, unknown> {
  return {
    account_id: account.id,
    user_id: account.user_id,
    platform: account.platform,
    username: account.username,
    platform_user_id: account.platform_user_id,
    // the original field, on Instagram accounts only
    instagram_user_id: account.platform === 'instagram' ? account.platform_user_id : null,
    status: account.status,
    status_message: account.status_message,
  }
}

export interface WebhookTarget {
  readonly url: string
  /**
   * Validated secrets (`whsec_<base64>` or plain, see `./secrets.ts`), at least one: each signs
   * every delivery; the first also signs the deprecated `X-Phoenix-Signature`.
   */
  readonly secrets: readonly string[]
}

/** Minutes to wait after the 1st, 2nd, ... failed attempt; one more failure ends the retries. */
export const RETRY_DELAYS_MINUTES: readonly number[] = [1, 5, 30, 120, 360, 720]
const DELIVERY_TIMEOUT_MS = 10_000
/** Attempts in flight at the same time, per pass. */
export const DELIVERY_CONCURRENCY = 4
/** Attempts per pass, at most (what one pass may send before the next takes over). */
const MAX_ATTEMPTS_PER_PASS = 2000

export interface WebhookNotifierOptions {
  readonly store: Store
  readonly clock: Clock
  readonly logger: FastifyBaseLogger
  /** `null`: webhooks are off and events are dropped. */
  readonly target: WebhookTarget | null
  readonly fetch?: FetchLike
  /** This instance's id: the first half of every lease owner (default: a fresh one). */
  readonly instanceId?: string
}

export interface DeliveryReport {
  readonly delivered: number
  readonly retrying: number
  readonly failed: number
}

export interface WebhookNotifier {
  readonly enabled: boolean
  /**
   * Makes the events the store writes in the transaction of the change they report (`null`:
   * webhooks are off). After such a write commits, call `deliverSoon`.
   */
  readonly events: EventMaker | null
  /** Starts delivering what the outbox holds, in the background (after a write with events). */
  deliverSoon(): void
  /** Attempts every due delivery once. */
  deliverDue(): Promise<DeliveryReport>
  /** Resolves when background deliveries started so far are done (for shutdown and tests). */
  idle(): Promise<void>
  /** Graceful stop: no new attempt starts (events are still recorded in the outbox). */
  stop(): void
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, keyed with the secret's text.
 * @deprecated The `X-Phoenix-Signature` value, kept for one release; use {@link webhookSigner}.
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')
  return `t=${unixSeconds},v1=${mac}`
}

/**
 * The signing headers of one attempt for these secrets (at least one): the Standard Webhooks
 * `webhook-id`, `webhook-timestamp` and `webhook-signature` (one `v1,<base64>` per secret), and the
 * deprecated `x-phoenix-delivery` and `x-phoenix-signature` (first secret).
 */
export function webhookSigner(
  secrets: readonly string[],
): (id: string, body: string, unixSeconds: number) => Record<string, string> {
  const [first] = secrets
  if (first === undefined) throw new Error('webhookSigner needs at least one secret')
  const signers = secrets.map((secret) => new Webhook(toWhsec(secret)))
  return (id, body, unixSeconds) => {
    const at = new Date(unixSeconds * 1000)
    return {
      'webhook-id': id,
      'webhook-timestamp': String(unixSeconds),
      'webhook-signature': signers.map((signer) => signer.sign(id, at, body)).join(' '),
      'x-phoenix-delivery': id,
      'x-phoenix-signature': signWebhook(first, body, unixSeconds),
    }
  }
}

export function createWebhookNotifier(options: WebhookNotifierOptions): WebhookNotifier {
  const { store, clock, logger, target } = options
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init))
  const sign = target === null ? null : webhookSigner(target.secrets)
  let running: Promise<DeliveryReport> | null = null
  let rerun = false
  let stopping = false
  const instanceId = options.instanceId ?? newInstanceId()

  async function attempt(url: string, type: string, body: string, signed: Record<string, string>) {
    try {
      const response = await fetchImpl(url, {
        method: 'POST',
        redirect: 'error',
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'PhoenixSocialGallery-Webhooks/1',
          'x-phoenix-event': type,
          ...signed,
        },
        body,
      })
      await response.body?.cancel()
      return response.ok ? null : `receiver answered HTTP ${response.status}`
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError'
      return timedOut ? 'receiver timed out' : 'receiver unreachable'
    }
  }

  async function deliverDue(): Promise<DeliveryReport> {
    let delivered = 0
    let retrying = 0
    let failed = 0
    if (target === null || sign === null) return { delivered, retrying, failed }
    /** One due delivery at a time (a lease per attempt): sent, and its outcome recorded. */
    await drainClaims({
      concurrency: DELIVERY_CONCURRENCY,
      max: MAX_ATTEMPTS_PER_PASS,
      stopped: () => stopping,
      claim: async () => {
        const now = clock.now()
        const owner = leaseOwner(instanceId)
        const [delivery] = await store.claimDueWebhooks({
          now,
          leaseUntil: now + 2 * DELIVERY_TIMEOUT_MS,
          limit: 1,
          owner,
        })
        return delivery === undefined ? undefined : { delivery, owner }
      },
      work: async ({ delivery, owner }) => {
        const signed = sign(delivery.id, delivery.payload, Math.floor(clock.now() / 1000))
        const error = await attempt(target.url, delivery.event_type, delivery.payload, signed)
        const attempts = delivery.attempts + 1
        const delay = RETRY_DELAYS_MINUTES[attempts - 1]
        const finishedAt = clock.now()
        const status = error === null ? 'delivered' : delay === undefined ? 'failed' : 'pending'
        const recorded = await store.finishWebhookAttempt({
          id: delivery.id,
          owner,
          status,
          attempts,
          nextAttemptAt: finishedAt + (error === null ? 0 : (delay ?? 0) * 60_000),
          lastError: error,
          now: finishedAt,
        })
        if (!recorded) {
          // this attempt outlived its lease and another took the delivery over: its outcome stands
          logger.warn(
            { delivery: delivery.id, event: delivery.event_type, attempts, status },
            'webhook attempt finished after losing its lease: outcome not recorded',
          )
          return
        }
        if (status === 'delivered') delivered++
        else if (status === 'failed') failed++
        else retrying++
        if (error !== null)
          logger.warn(
            { delivery: delivery.id, event: delivery.event_type, attempts, error, status },
            'webhook delivery failed',
          )
      },
    })
    return { delivered, retrying, failed }
  }

  /**
   * One delivery pass at a time per process (the outbox lease covers other processes). An event
   * queued while a pass runs makes it go round once more, so it is not left for the next job run.
   */
  function kick(): Promise<DeliveryReport> {
    if (running !== null) {
      rerun = true
      return running
    }
    running = (async () => {
      const total = { delivered: 0, retrying: 0, failed: 0 }
      do {
        rerun = false
        const pass = await deliverDue()
        total.delivered += pass.delivered
        total.retrying += pass.retrying
        total.failed += pass.failed
      } while (rerun)
      return total
    })().finally(() => {
      running = null
    })
    return running
  }

  const events: EventMaker | null =
    target === null
      ? null
      : {
          account: (type, account, now) => makeEvent(type, accountEventData(account), now),
          dataDeleted: (data, now) => makeEvent('data.deleted', data, now),
        }

  const notifier: WebhookNotifier = {
    enabled: target !== null,
    events,
    deliverSoon() {
      if (target === null) return
      kick().catch((error: unknown) => logger.error({ err: error }, 'webhook delivery crashed'))
    },
    deliverDue: kick,
    async idle() {
      while (running !== null) await running.catch(() => undefined)
    },
    stop() {
      stopping = true
    },
  }
  return notifier
}
