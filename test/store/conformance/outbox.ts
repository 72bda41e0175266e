/** Conformance: the webhook outbox (`OutboxStore`). */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { NOW } from './harness.ts'

export function outboxCases({ test, harness }: Conformance): void {
  test('webhook outbox: due deliveries are leased once, retried later, then finished', async () => {
    const h = harness()
    await h.store.enqueueWebhook({
      id: 'evt_1',
      event_type: 'account.connected',
      payload: '{"a":1}',
      now: NOW,
    })
    await h.store.enqueueWebhook({
      id: 'evt_2',
      event_type: 'data.deleted',
      payload: '{}',
      now: NOW + 1,
    })
    const claim = { now: NOW + 1, leaseUntil: NOW + 20_000, limit: 10 }
    const [a, b] = await Promise.all([
      h.store.claimDueWebhooks(claim),
      h.store.claimDueWebhooks(claim),
    ])
    assert.deepEqual(
      [...(a ?? []), ...(b ?? [])].map((d) => [d.id, d.status, d.attempts, d.payload]),
      [
        ['evt_1', 'pending', 0, '{"a":1}'],
        ['evt_2', 'pending', 0, '{}'],
      ],
    )
    await h.store.finishWebhookAttempt({
      id: 'evt_1',
      status: 'pending',
      attempts: 1,
      nextAttemptAt: NOW + 60_000,
      lastError: 'HTTP 500',
      now: NOW + 2,
    })
    await h.store.finishWebhookAttempt({
      id: 'evt_2',
      status: 'delivered',
      attempts: 1,
      nextAttemptAt: NOW + 2,
      lastError: null,
      now: NOW + 2,
    })
    assert.equal(
      (await h.store.claimDueWebhooks({ ...claim, now: NOW + 3 })).length,
      0,
      'retry not due',
    )
    assert.deepEqual(
      (await h.store.claimDueWebhooks({ ...claim, now: NOW + 60_000 })).map((d) => [
        d.id,
        d.attempts,
        d.last_error,
      ]),
      [['evt_1', 1, 'HTTP 500']],
    )
  })
}
