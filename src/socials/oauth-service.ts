/**
 * @module socials/oauth-service — starting a connection and finishing it at the callback.
 *
 * The state value is 32 random bytes, stored only as a digest, valid 5 minutes, consumed
 * atomically (one of two parallel callbacks wins), bound to the user and to the browser through
 * an HttpOnly SameSite=Lax cookie, and it records the platform (RFC 9700 §2.1, §4.4, §4.7).
 * A failed callback stores nothing.
 */
import { GalleryError, isGalleryError } from '../errors.ts'
import type { Clock } from '../clock.ts'
import type { FernetKeyRing } from '../crypto/fernet.ts'
import { randomToken, sha256 } from '../crypto/random.ts'
import type { OAuthReturnMode, SocialAccountRecord, Store } from '../store/types.ts'
import type { WebhookNotifier } from '../webhooks/webhooks.ts'
import { codeChallengeS256, createCodeVerifier } from '../providers/oauth/pkce.ts'
import type { CallbackOutcomeCode } from './messages.ts'
import type { Connections } from './connections.ts'
import { createRevocations, type Revocations } from './revocations.ts'
import type { Credentials, ProviderClient } from '../providers/types.ts'
import { openCredentials, sealCredentials } from './credentials.ts'
import type { FastifyBaseLogger } from 'fastify'

export const STATE_TTL_MS = 5 * 60_000
const STATE_PATTERN = /^[A-Za-z0-9_-]{43}$/
// Google's codes carry a slash (`4/0A…`), TikTok's `*` and `!`; Meta's may end in `#_`
const CODE_PATTERN = /^[A-Za-z0-9_\-.#/*!]{1,2048}$/
const BINDING_PATTERN = /^[pr]\.[A-Za-z0-9_-]{43}$/

export type CallbackResult =
  | {
      readonly ok: true
      readonly account: SocialAccountRecord
      readonly created: boolean
      readonly mode: OAuthReturnMode
    }
  | {
      readonly ok: false
      readonly code: CallbackOutcomeCode
      readonly detail?: string
      readonly mode: OAuthReturnMode
    }

export interface OAuthServiceDeps {
  readonly store: Store
  readonly vault: FernetKeyRing
  readonly clock: Clock
  /** The configured connectable platforms (a platform missing here is not configured). */
  readonly connections: Connections
  /** What a connect to an unconfigured platform answers (the variables to set). */
  readonly notConfiguredMessage: (platform: string) => string
  readonly webhooks: WebhookNotifier
  /** Where a failed revocation at the platform is told (default: nowhere). */
  readonly logger?: FastifyBaseLogger
  /** How disconnected grants are revoked (default: one made from these deps). */
  readonly revocations?: Revocations
}

/** The browser-binding cookie value carries the return mode, so even a bad state lands right. */
export function modeOfBinding(binding: string | undefined): OAuthReturnMode {
  return binding?.startsWith('p.') === true ? 'popup' : 'redirect'
}

export interface OAuthService {
  /** Creates the state record; returns the URL to send the browser to and the binding cookie. */
  startConnect(
    userId: string,
    platform: string,
    mode: OAuthReturnMode,
  ): Promise<{ authorizationUrl: string; binding: string }>
  /**
   * Finishes the flow. `query` is the raw parsed query string (values may be arrays when a
   * parameter is repeated); `sessionUserId` is the signed-in user, if the session cookie came.
   */
  handleCallback(
    platform: string,
    query: Record<string, unknown>,
    sessionUserId: string | null,
    binding: string | undefined,
  ): Promise<CallbackResult>
  /**
   * Disconnects one of the user's accounts: asks the platform to revoke the grant when it can
   * (`capabilities.revocation`; best effort: a platform that fails to answer does not keep the
   * person connected here), then deletes the account, its credentials and its media. `false` for
   * an account that is not the user's.
   */
  disconnect(userId: string, accountId: string): Promise<boolean>
  /**
   * Gives every grant of the user back to its platform before "delete all my data" deletes them
   * (a revocation the platform cannot take now is queued).
   */
  revokeAll(userId: string): Promise<void>
}

export function createOAuthService(deps: OAuthServiceDeps): OAuthService {
  const { store, clock } = deps
  const revocations =
    deps.revocations ??
    createRevocations({
      store,
      vault: deps.vault,
      clock,
      logger: deps.logger,
      connections: deps.connections,
    })

  return {
    /** Creates the state record; returns the URL to send the browser to and the binding cookie. */
    async startConnect(
      userId: string,
      platform: string,
      mode: OAuthReturnMode,
    ): Promise<{ authorizationUrl: string; binding: string }> {
      const connection = deps.connections.get(platform)
      if (connection === undefined)
        throw new GalleryError('ERR_NOT_CONFIGURED', deps.notConfiguredMessage(platform))
      const client = connection.makeClient({ accountId: null })
      const now = clock.now()
      const state = randomToken(32)
      const binding = `${mode === 'popup' ? 'p' : 'r'}.${randomToken(32)}`
      // PKCE where the platform takes it: the verifier stays here, encrypted with the state
      const verifier = client.capabilities.pkce === 'none' ? null : createCodeVerifier()
      await store.deleteExpiredOAuthStates(now)
      await store.createOAuthState({
        state_hash: sha256(state),
        user_id: userId,
        platform,
        binding_hash: sha256(binding),
        return_mode: mode,
        created_at: now,
        expires_at: now + STATE_TTL_MS,
        encrypted_code_verifier: verifier === null ? null : deps.vault.encrypt(verifier),
      })
      const authorizationUrl =
        verifier === null
          ? client.authorizationUrl(state)
          : client.authorizationUrl(state, codeChallengeS256(verifier))
      return { authorizationUrl, binding }
    },

    /**
     * Finishes the flow. `query` is the raw parsed query string (values may be arrays when a
     * parameter is repeated); `sessionUserId` is the signed-in user, if the session cookie came.
     */
    async handleCallback(
      platform: string,
      query: Record<string, unknown>,
      sessionUserId: string | null,
      binding: string | undefined,
    ): Promise<CallbackResult> {
      const mode = modeOfBinding(binding)
      const fail = (code: CallbackOutcomeCode, detail?: string): CallbackResult =>
        detail === undefined ? { ok: false, code, mode } : { ok: false, code, detail, mode }
      // Repeated parameters arrive as arrays: reject them, and oversized values (RFC 6749 §10.14).
      for (const value of Object.values(query)) {
        if (typeof value !== 'string' || value.length > 4096) return fail('callback_validation')
      }
      const get = (key: string): string | undefined => {
        const value = query[key]
        return typeof value === 'string' ? value : undefined
      }
      const stateValue = get('state')
      const stateWellFormed = stateValue !== undefined && STATE_PATTERN.test(stateValue)
      // Consume the state first, whatever else the request says: it is single-use.
      const record = stateWellFormed ? await store.consumeOAuthState(sha256(stateValue)) : null

      const error = get('error')
      if (error !== undefined) {
        if (error === 'access_denied') return fail('access_denied')
        // Show Instagram's description only on a genuine return (valid state): otherwise anyone
        // could put words on our page with a crafted link.
        return record === null
          ? fail('provider_error')
          : fail('provider_error', (get('error_description') ?? error).slice(0, 300))
      }
      if (stateValue === undefined) return fail('invalid_state')
      if (!stateWellFormed) return fail('callback_validation')
      if (record === null) return fail('invalid_state')
      const now = clock.now()
      const bindingOk =
        binding !== undefined &&
        BINDING_PATTERN.test(binding) &&
        sha256(binding) === record.binding_hash
      if (
        record.expires_at <= now ||
        // a state issued for another platform's connection is not this callback's
        record.platform !== platform ||
        !bindingOk ||
        (sessionUserId !== null && sessionUserId !== record.user_id)
      ) {
        return fail('invalid_state')
      }
      // Meta appends `#_` to the redirect; browsers drop fragments, but a pasted URL may keep it.
      const code = get('code')?.replace(/#_$/, '')
      if (code === undefined || code === '' || !CODE_PATTERN.test(code))
        return fail('callback_validation')
      const connection = deps.connections.get(platform)
      if (connection === undefined) return fail('not_configured')
      const client = connection.makeClient({ accountId: null })

      let verifier: string | undefined
      try {
        verifier =
          record.encrypted_code_verifier === null
            ? undefined
            : deps.vault.decrypt(record.encrypted_code_verifier)
      } catch {
        // a key removed within the state's five minutes: the flow has to start again
        return fail('invalid_state')
      }
      let credentials
      try {
        credentials = await client.exchangeCode(code, verifier)
      } catch (err) {
        return fail('token_exchange_failed', metaDetail(err))
      }
      // a connection whose only token may die any time without a way to renew it is refused:
      // renewals are scheduled by the lifetime
      if (credentials.accessTokenExpiresAt === null && credentials.refreshToken === null)
        return fail('token_exchange_failed', 'the token came without a lifetime')
      const granted = client.checkGrant(credentials)
      if (!granted.ok) {
        // what was granted is of no use to us: give it back rather than keep it anywhere
        await revokeGrant(deps, client, credentials, null)
        return fail(granted.outcome, granted.detail)
      }
      let lookup
      try {
        lookup = await client.fetchIdentity(credentials)
      } catch (err) {
        return fail('profile_failed', metaDetail(err))
      }
      if (!lookup.ok) {
        await revokeGrant(deps, client, credentials, null)
        return fail(lookup.outcome, lookup.detail)
      }
      const identity = lookup.identity
      const eligible = client.checkEligible(identity)
      if (!eligible.ok) return fail(eligible.outcome, eligible.detail)

      const { account, created } = await store.upsertOAuthAccount(
        {
          user_id: record.user_id,
          platform,
          username: identity.username,
          platform_user_id: identity.providerAccountId,
          platform_scoped_id: identity.aliases[0] ?? null,
          platform_attributes: identity.attributes,
          credentials: sealCredentials(deps.vault, credentials),
          posts_count: identity.mediaCount,
          profile_url: identity.profileUrl,
          profile_picture_url: identity.avatarUrl,
          now,
        },
        deps.webhooks.events,
      )
      // `account.connected` committed with the connection; deliver it now
      deps.webhooks.deliverSoon()
      return { ok: true, account, created, mode: record.return_mode }
    },
    async disconnect(userId, accountId) {
      const account = await store.getAccount(userId, accountId)
      if (account === null) return false
      // revoked at the platform first; a revocation it cannot take now is queued with the delete
      return revocations.disconnect(account, credentialsToRevoke(deps, account))
    },
    async revokeAll(userId) {
      const accounts: SocialAccountRecord[] = []
      for (let guard = 0; guard < 1000; guard++) {
        const last = accounts[accounts.length - 1]
        const page = await store.listAccounts(userId, {
          limit: 100,
          ...(last === undefined
            ? {}
            : { after: { connected_at: last.connected_at, id: last.id } }),
        })
        accounts.push(...page)
        if (page.length < 100) break
      }
      await revocations.revokeBeforeDeleting(
        accounts
          .filter((account) => account.account_type === 'oauth')
          .map((account) => ({ account, credentials: credentialsToRevoke(deps, account) })),
      )
    },
  }
}

/**
 * The credentials of a disconnecting account, for revoking them at its platform; `null` when
 * there is nothing the platform would still honour (run out) or nothing we can open (logged).
 */
function credentialsToRevoke(
  deps: OAuthServiceDeps,
  account: SocialAccountRecord,
): Credentials | null {
  const connection = deps.connections.get(account.platform)
  if (connection === undefined || account.account_type !== 'oauth') return null
  if (connection.capabilities.revocation !== 'endpoint') return null
  if (account.credentials_expire_at !== null && account.credentials_expire_at <= deps.clock.now())
    return null
  try {
    return openCredentials(deps.vault, account, deps.clock.now(), connection.label).credentials
  } catch (error) {
    deps.logger?.warn(
      { accountId: account.id, code: isGalleryError(error) ? error.code : 'unknown' },
      'revocation at the platform skipped: the stored credentials cannot be opened',
    )
    return null
  }
}

/**
 * Asks the platform to revoke `credentials` (a platform without revocation: nothing to do).
 * Failures are logged, never thrown: what we hold is deleted whatever the platform answers.
 */
async function revokeGrant(
  deps: OAuthServiceDeps,
  client: ProviderClient,
  credentials: Credentials,
  accountId: string | null,
): Promise<void> {
  if (client.capabilities.revocation !== 'endpoint' || client.revoke === undefined) return
  try {
    await client.revoke(credentials)
  } catch (error) {
    deps.logger?.warn(
      { accountId, code: isGalleryError(error) ? error.code : 'unknown' },
      'revocation at the platform failed',
    )
  }
}

function metaDetail(error: unknown): string {
  if (isGalleryError(error)) return error.message.slice(0, 300)
  return 'unexpected error'
}
