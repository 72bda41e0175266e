/**
 * Helpers for job tests: run what is due, shape the emulator through its control interface
 * (`emulator.control`, in-process: the mounted sandbox has no HTTP control API), and read what
 * the emulator saw.
 */
import type { JobsReport } from '../../src/socials/job-runner.ts'
import { createRenewalService, type RenewalService } from '../../src/socials/renewal-service.ts'
import { INSTAGRAM_CAPABILITIES } from '../../src/providers/instagram/client.ts'
import type { ProviderCapabilities, ProviderClient } from '../../src/providers/types.ts'
import type { ProviderClientFactory } from '../../src/socials/client-factory.ts'
import type { Connections } from '../../src/socials/connections.ts'
import type { RateGovernor } from '../../src/socials/rate-governor.ts'
import type { TestApp } from './build-app.ts'

export const HOUR = 3_600_000
export const DAY = 24 * HOUR

/**
 * A renewal service on the test app's store, clock and webhooks whose every renewal goes through
 * `client` (a stand-in for Instagram's), with the default 30-day margin.
 */
export function renewalWith(
  app: TestApp,
  client: Pick<ProviderClient, 'renew'>,
  concurrency?: number,
): RenewalService {
  return createRenewalService({
    store: app.store,
    vault: app.vault,
    clock: app.clock,
    logger: app.app.log,
    connections: instagramConnections(() => client as ProviderClient),
    webhooks: app.app.jobs.webhooks,
    marginMs: 30 * DAY,
    ...(concurrency === undefined ? {} : { concurrency }),
  })
}

/** A governor that admits every call and reports no pressure (budgets are not under test). */
export const OPEN_GOVERNOR: RateGovernor = {
  async beforeCall() {},
  async afterCall() {},
  async pressure() {
    return { percent: 0, waitUntil: null }
  },
  routineUnitsPerDay: () => null,
  async quotas() {
    return []
  },
}

/** Services' view of Instagram alone, with `makeClient` as its clients (stand-ins in tests). */
export function instagramConnections(
  makeClient: ProviderClientFactory,
  capabilities: ProviderCapabilities = INSTAGRAM_CAPABILITIES,
): Connections {
  return new Map([
    [
      'instagram',
      {
        platform: 'instagram',
        label: 'Instagram',
        mode: 'sandbox',
        makeClient,
        capabilities,
        governor: OPEN_GOVERNOR,
        slowDownPercent: 80,
      },
    ],
  ])
}

/** One pass of the scheduler (what the in-process timer and the jobs endpoint run). */
export function runDue(app: TestApp): Promise<JobsReport> {
  return app.app.jobs.runner.runDue()
}

/**
 * Publishes a new post on the emulated Instagram account; returns its id. The clock moves one
 * second first: Graph timestamps have one-second precision, and posts made in the same second
 * have no defined order.
 */
export async function publish(app: TestApp, userIndex = 1, caption?: string): Promise<string> {
  app.clock.advance(1000)
  return app.emulator.control.publish(userIndex, caption === undefined ? {} : { caption }).id
}

export async function unpublish(app: TestApp, mediaId: string): Promise<void> {
  app.emulator.control.deleteMedia(mediaId)
}

/** Graph and token calls the emulator received so far (paths only; never tokens). */
export function emulatorCalls(app: TestApp): number {
  return app.emulator.state.calls.length
}

export async function storedMediaIds(app: TestApp): Promise<string[]> {
  return (
    await app.raw(
      'SELECT platform_media_id FROM media WHERE parent_id IS NULL ORDER BY timestamp DESC',
    )
  ).map((r) => String(r.platform_media_id))
}

/** The (first) account's row with its jobs' state under the record's names (migration 0011). */
export async function accountRow(app: TestApp): Promise<Record<string, unknown>> {
  return (await app.raw('SELECT * FROM social_accounts_with_jobs'))[0] ?? {}
}
