/**
 * The contract of `Store`: every backend's test file calls `runStoreConformance` with a factory.
 * Each write is checked with raw SQL reads that bypass the store. One file per aggregate (the
 * role interfaces of `src/store/types/`); each case gets a fresh store.
 *
 * The "concurrent" cases only bite where transactions really run at the same time (PostgreSQL);
 * SQLite serialises them on its one connection, so there they check the sequential outcome.
 */
import { describe, test, beforeEach, afterEach } from 'node:test'
import type { Conformance, ConformanceOptions, StoreHarness } from './harness.ts'
import { NOW, oauthInput } from './harness.ts'
import { userCases } from './users.ts'
import { sessionCases } from './sessions.ts'
import { deviceCases } from './devices.ts'
import { oauthStateCases } from './oauth-states.ts'
import { accountCases } from './accounts.ts'
import { mediaCases } from './media.ts'
import { deletionCases } from './deletions.ts'
import { jobCases } from './jobs.ts'
import { budgetCases } from './budgets.ts'
import { outboxCases } from './outbox.ts'
import { revocationCases } from './revocations.ts'
import { maintenanceCases } from './maintenance.ts'
import { leaseCases } from './leases.ts'
import { archiveCases } from './archive.ts'
import { archiveQuotaCases } from './archive-quota.ts'

export type { ConformanceOptions, StoreHarness } from './harness.ts'

const AGGREGATES: readonly (readonly [string, (c: Conformance) => void])[] = [
  ['users', userCases],
  ['sessions', sessionCases],
  ['devices', deviceCases],
  ['oauth states', oauthStateCases],
  ['accounts', accountCases],
  ['media', mediaCases],
  ['deletions', deletionCases],
  ['jobs', jobCases],
  ['budgets', budgetCases],
  ['outbox', outboxCases],
  ['revocations', revocationCases],
  ['maintenance', maintenanceCases],
  ['leases', leaseCases],
  ['archive', archiveCases],
  ['archive quota', archiveQuotaCases],
]

export function runStoreConformance({ name, create, skip = {} }: ConformanceOptions): void {
  describe(`store conformance: ${name}`, () => {
    let current: StoreHarness | undefined
    beforeEach(async () => {
      current = await create()
    })
    afterEach(async () => {
      // a skipped case never created a store
      await current?.dispose()
      current = undefined
    })

    const declared = new Set<string>()
    const harness = (): StoreHarness => {
      if (current === undefined) throw new Error('no store: harness() is only valid inside a case')
      return current
    }
    const c: Conformance = {
      test(caseName, fn) {
        if (declared.has(caseName)) throw new Error(`two conformance cases named "${caseName}"`)
        declared.add(caseName)
        const reason = skip[caseName]
        test(caseName, reason === undefined ? {} : { skip: reason }, fn)
      },
      harness,
      async user(email = 'a@example.com') {
        return (await harness().store.createUser({ email, password_hash: 'scrypt$x', now: NOW })).id
      },
      async account(userId, igId) {
        return (await harness().store.upsertOAuthAccount(oauthInput(userId, igId))).account.id
      },
    }
    for (const [aggregate, cases] of AGGREGATES) describe(aggregate, () => cases(c))

    const unknown = Object.keys(skip).filter((caseName) => !declared.has(caseName))
    if (unknown.length > 0)
      throw new Error(`skip names no conformance case: ${unknown.map((n) => `"${n}"`).join(', ')}`)
  })
}
