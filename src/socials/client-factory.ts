/**
 * @module socials/client-factory — how services get a platform's client: one per unit of work,
 * told which account it calls for (rate-limit budgets are per account) and counting its calls.
 */
import type { ProviderClient } from '../providers/types.ts'

export interface ClientScope {
  /** The account the calls are made for; `null` while connecting (no account yet). */
  readonly accountId: string | null
  /** Told about every HTTP call made (the services report calls per run). */
  readonly onCall?: () => void
  /**
   * Routine work (a scheduled sync): its calls may not spend the share of a budget the platform
   * keeps for people waiting on an answer (YouTube's last 20 % of the day's quota).
   */
  readonly routine?: boolean
}

export type ProviderClientFactory = (scope: ClientScope) => ProviderClient
