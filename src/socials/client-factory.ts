/**
 * @module socials/client-factory — how services get an Instagram client: one per unit of work,
 * told which account it calls for (rate-limit budgets are per account) and counting its calls.
 */
import type { InstagramClient } from '../providers/instagram/client.ts'

export interface ClientScope {
  /** The account the calls are made for; `null` while connecting (no account yet). */
  readonly accountId: string | null
  /** Told about every HTTP call made (the services report calls per run). */
  readonly onCall?: () => void
}

export type InstagramClientFactory = (scope: ClientScope) => InstagramClient
