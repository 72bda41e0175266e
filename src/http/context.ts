/**
 * @module http/context — what route modules share, built once by `buildApp`.
 */
import type { FastifyRequest } from 'fastify'
import type { Clock } from '../clock.ts'
import type { Config } from '../config/load-config.ts'
import type { ProviderMode } from '../providers/types.ts'
import type { Store } from '../store/types.ts'
import type { OAuthService } from '../socials/oauth-service.ts'
import type { SyncService } from '../socials/sync-service.ts'
import type { WebhookNotifier } from '../webhooks/webhooks.ts'
import type { Throttle } from './throttle.ts'
import type { Principal, SessionManager } from './session.ts'

export interface AppContext {
  readonly config: Config
  readonly store: Store
  readonly clock: Clock
  readonly sessions: SessionManager
  readonly oauth: OAuthService
  readonly sync: SyncService
  readonly webhooks: WebhookNotifier
  readonly throttle: Throttle
  /** Each connectable platform's mode (real, sandbox or unconfigured), from `Config.providers`. */
  readonly modes: Readonly<Record<string, ProviderMode>>
  /**
   * Archives what a sync the person is watching brought, soon (`archive/soon.ts`); absent
   * without an archive.
   */
  readonly archiveSoon?: () => void
  /** log2 of scrypt's N for new password hashes. */
  readonly passwordCost: number
  /** @throws ERR_UNAUTHENTICATED when nobody is signed in. */
  requireUser(request: FastifyRequest): Promise<Principal>
}
