/**
 * @module socials/oauth-service — starting a connection and finishing it at the callback.
 *
 * The state value is 32 random bytes, stored only as a digest, valid 5 minutes, consumed
 * atomically (one of two parallel callbacks wins), bound to the user and to the browser through
 * an HttpOnly SameSite=Lax cookie, and it records the provider (RFC 9700 §2.1, §4.4, §4.7).
 * A failed callback stores nothing.
 */
import { GalleryError, isGalleryError } from '../errors.ts'
import type { Clock } from '../clock.ts'
import type { FernetKeyRing } from '../crypto/fernet.ts'
import { randomToken, sha256 } from '../crypto/random.ts'
import type { OAuthReturnMode, SocialAccountRecord, Store } from '../store/types.ts'
import type { ProviderClient } from '../providers/types.ts'
import type { WebhookNotifier } from '../webhooks/webhooks.ts'
import { NOT_CONFIGURED_MESSAGE, type CallbackOutcomeCode } from './messages.ts'

export const STATE_TTL_MS = 5 * 60_000
const STATE_PATTERN = /^[A-Za-z0-9_-]{43}$/
const CODE_PATTERN = /^[A-Za-z0-9_\-.#]{1,2048}$/
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
  /** `null` when Instagram is not configured (production without credentials). */
  readonly instagram: ProviderClient | null
  readonly webhooks: WebhookNotifier
}

/** The browser-binding cookie value carries the return mode, so even a bad state lands right. */
export function modeOfBinding(binding: string | undefined): OAuthReturnMode {
  return binding?.startsWith('p.') === true ? 'popup' : 'redirect'
}

export interface OAuthService {
  /** Creates the state record; returns the URL to send the browser to and the binding cookie. */
  startConnect(
    userId: string,
    mode: OAuthReturnMode,
  ): Promise<{ authorizationUrl: string; binding: string }>
  /**
   * Finishes the flow. `query` is the raw parsed query string (values may be arrays when a
   * parameter is repeated); `sessionUserId` is the signed-in user, if the session cookie came.
   */
  handleCallback(
    query: Record<string, unknown>,
    sessionUserId: string | null,
    binding: string | undefined,
  ): Promise<CallbackResult>
}

export function createOAuthService(deps: OAuthServiceDeps): OAuthService {
  const { store, clock } = deps

  return {
    /** Creates the state record; returns the URL to send the browser to and the binding cookie. */
    async startConnect(
      userId: string,
      mode: OAuthReturnMode,
    ): Promise<{ authorizationUrl: string; binding: string }> {
      if (deps.instagram === null)
        throw new GalleryError('ERR_NOT_CONFIGURED', NOT_CONFIGURED_MESSAGE)
      const now = clock.now()
      const state = randomToken(32)
      const binding = `${mode === 'popup' ? 'p' : 'r'}.${randomToken(32)}`
      await store.deleteExpiredOAuthStates(now)
      await store.createOAuthState({
        state_hash: sha256(state),
        user_id: userId,
        provider: 'instagram',
        binding_hash: sha256(binding),
        return_mode: mode,
        created_at: now,
        expires_at: now + STATE_TTL_MS,
      })
      return { authorizationUrl: deps.instagram.authorizationUrl(state), binding }
    },

    /**
     * Finishes the flow. `query` is the raw parsed query string (values may be arrays when a
     * parameter is repeated); `sessionUserId` is the signed-in user, if the session cookie came.
     */
    async handleCallback(
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
        record.provider !== 'instagram' ||
        !bindingOk ||
        (sessionUserId !== null && sessionUserId !== record.user_id)
      ) {
        return fail('invalid_state')
      }
      // Meta appends `#_` to the redirect; browsers drop fragments, but a pasted URL may keep it.
      const code = get('code')?.replace(/#_$/, '')
      if (code === undefined || code === '' || !CODE_PATTERN.test(code))
        return fail('callback_validation')
      const instagram = deps.instagram
      if (instagram === null) return fail('not_configured')

      let credentials
      try {
        credentials = await instagram.exchangeCode(code)
      } catch (err) {
        return fail('token_exchange_failed', metaDetail(err))
      }
      // the account record keeps the token's expiry (renewals are scheduled by it)
      const expiresAt = credentials.accessTokenExpiresAt
      if (expiresAt === null)
        return fail('token_exchange_failed', 'the token came without a lifetime')
      let identity
      try {
        identity = await instagram.fetchIdentity(credentials)
      } catch (err) {
        return fail('profile_failed', metaDetail(err))
      }
      const eligible = instagram.checkEligible(identity)
      if (!eligible.ok) return fail(eligible.outcome)

      const { account, created } = await store.upsertOAuthAccount({
        user_id: record.user_id,
        platform: 'instagram',
        username: identity.username,
        instagram_user_id: identity.providerAccountId,
        instagram_scoped_id: identity.aliases[0] ?? identity.providerAccountId,
        instagram_account_type: identity.attributes.account_type ?? 'UNKNOWN',
        encrypted_access_token: deps.vault.encrypt(credentials.accessToken),
        token_expires_at: expiresAt,
        token_issued_at: credentials.issuedAt,
        posts_count: identity.mediaCount,
        profile_url: identity.profileUrl,
        profile_picture_url: identity.avatarUrl,
        now,
      })
      await deps.webhooks.emitAccount('account.connected', account)
      return { ok: true, account, created, mode: record.return_mode }
    },
  }
}

function metaDetail(error: unknown): string {
  if (isGalleryError(error)) return error.message.slice(0, 300)
  return 'unexpected error'
}
