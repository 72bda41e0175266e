/**
 * @module providers/tiktok/emulator/webhook — TikTok's webhook deliveries, as the emulator makes
 * them: the `authorization.removed` event (T12) POSTed as JSON to the app's callback URL through
 * an injected `fetch`, signed as TikTok documents it (developers.tiktok.com/doc/webhooks-
 * verification):
 *
 *     TikTok-Signature: t=<unix seconds>,s=<hex HMAC-SHA256(client_secret, "<t>.<raw body>")>
 *
 * Body: `{client_key, event, create_time, user_openid, content}`, `content` being a JSON string
 * `{"reason": n}` (0 unknown, 1 the user disconnected, 2 account deleted, 3 age change,
 * 4 banned, 5 developer revoke). A delivery that does not answer 200 stays pending; TikTok
 * retries for up to 72 hours, then discards it (`retryWebhooks`, called by the control).
 */
import { createHmac } from 'node:crypto'
import type { FetchLike } from '../../types.ts'
import { WEBHOOK_RETRY_MS, type PendingWebhook, type TiktokEmulatorState } from './state.ts'

export const SIGNATURE_HEADER = 'TikTok-Signature'

/** `t=<seconds>,s=<hex>` for `rawBody` signed at `seconds` with the app's client secret. */
export function tiktokSignature(clientSecret: string, seconds: number, rawBody: string): string {
  const s = createHmac('sha256', clientSecret).update(`${seconds}.${rawBody}`).digest('hex')
  return `t=${seconds},s=${s}`
}

/** The raw body of an `authorization.removed` event. */
export function authorizationRemovedBody(
  clientKey: string,
  openId: string,
  reason: number,
  seconds: number,
): string {
  return JSON.stringify({
    client_key: clientKey,
    event: 'authorization.removed',
    create_time: seconds,
    user_openid: openId,
    content: JSON.stringify({ reason }),
  })
}

export interface DeliveryResult {
  /** The callback's HTTP status; 0 when it could not be reached. */
  readonly status: number
  readonly delivered: boolean
}

/** POSTs one pending event, signed now; a 200 delivers it. */
export async function deliver(
  state: TiktokEmulatorState,
  fetch: FetchLike,
  url: string,
  pending: PendingWebhook,
): Promise<DeliveryResult> {
  const seconds = Math.floor(state.clock.now() / 1000)
  pending.attempts += 1
  let status = 0
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: tiktokSignature(state.settings.clientSecret, seconds, pending.body),
      },
      body: pending.body,
      signal: AbortSignal.timeout(10_000),
    })
    status = response.status
    await response.body?.cancel()
  } catch {
    status = 0
  }
  pending.lastStatus = status
  return { status, delivered: status === 200 }
}

/** Retries every pending event; those older than 72 hours are discarded first. */
export async function retryPending(
  state: TiktokEmulatorState,
  fetch: FetchLike,
  url: string,
): Promise<{ delivered: number; pending: number; discarded: number }> {
  const now = state.clock.now()
  const before = state.pendingWebhooks.length
  state.pendingWebhooks = state.pendingWebhooks.filter((p) => now - p.createdAt < WEBHOOK_RETRY_MS)
  const discarded = before - state.pendingWebhooks.length
  const done = new Set<PendingWebhook>()
  // a snapshot: events queued meanwhile stay queued
  for (const pending of [...state.pendingWebhooks]) {
    const result = await deliver(state, fetch, url, pending)
    if (result.delivered) done.add(pending)
  }
  state.pendingWebhooks = state.pendingWebhooks.filter((p) => !done.has(p))
  return { delivered: done.size, pending: state.pendingWebhooks.length, discarded }
}
