/**
 * @module socials/connections — the platforms this instance can connect and call, as the services
 * see them: one entry per connectable platform that is configured (its real API or its sandbox),
 * with its client factory and its rate governor. Built once by `buildApp` from the registry; the
 * services pick an account's entry by the account's `platform` and act on its client's
 * capabilities, never on a platform's id.
 */
import type { ProviderCapabilities, ProviderId, ProviderMode } from '../providers/types.ts'
import type { ProviderClientFactory } from './client-factory.ts'
import type { RateGovernor } from './rate-governor.ts'

export interface PlatformConnection {
  readonly platform: ProviderId
  /** The platform's name for messages ("Instagram"). */
  readonly label: string
  readonly mode: Exclude<ProviderMode, 'unconfigured'>
  readonly makeClient: ProviderClientFactory
  /** What its clients can do (the same for every client of the platform). */
  readonly capabilities: ProviderCapabilities
  /** Paces and counts this platform's calls (its budgets). */
  readonly governor: RateGovernor
  /** From this usage percentage on, routine syncs wait (the platform's pacing). */
  readonly slowDownPercent: number
  /** What the platform says when a connection has run out (default: `expiredMessage`). */
  readonly expiredMessage?: string
}

/** The configured connectable platforms, by platform id. */
export type Connections = ReadonlyMap<string, PlatformConnection>
