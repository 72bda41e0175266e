/**
 * The provider conformance suite: what every connectable platform's client must do, checked
 * against that platform's emulator. A platform's test file is one call of
 * `runProviderConformance`, giving a harness over its emulator; checks that cannot apply are
 * skipped with their reason (e.g. PKCE for a platform that documents none).
 *
 * It pins the contract the services rely on (`src/providers/types.ts`): the authorization URL,
 * the code exchange, renewal, identity, listing newest first through opaque cursors that never
 * hold a token, https links and string ids, the failure taxonomy, and that the logger scrubs every
 * token the platform issues. The whole 90-day lifecycle runs through the app in
 * `test/jobs/ninety-days.test.ts`.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { ProviderClient } from '../../src/providers/types.ts'
import { redactText } from '../../src/log/logger.ts'
import { isGalleryError } from '../../src/errors.ts'
import { codeChallengeS256, createCodeVerifier } from '../../src/providers/oauth/pkce.ts'

export type ConformanceCheck =
  | 'authorize-url'
  | 'code-exchange'
  | 'renewal'
  | 'identity'
  | 'listing'
  | 'cursor-has-no-token'
  | 'failure-taxonomy'
  | 'redaction'
  | 'pkce'
  | 'refresh-rotation'
  | 'revoke'
  | 'read-media'

/** Failures an emulator can be made to answer with at the next call. */
export type InjectedFailure = 'unavailable' | 'timeout' | 'rate_limited' | 'reauth' | 'refused'

/** One platform's emulator, with a client of ours configured against it. */
export interface ConformanceHarness {
  /** Our client, configured against the emulator (as the app configures it). */
  readonly client: ProviderClient
  /** Consents on the emulator's page for this authorization URL, as a person; returns the code. */
  authorize(authorizationUrl: string): Promise<string>
  /** The connected account's posts on the emulator, newest first (their platform ids). */
  postIds(): string[]
  /** Makes the emulator answer the next call with this failure. */
  fail(kind: InjectedFailure): void
  /** Moves the emulator's (and the client's) clock. */
  advance(ms: number): void
  /** Every token and code the emulator has issued so far. */
  issuedSecrets(): string[]
}

export interface ProviderConformanceOptions {
  readonly name: string
  readonly setup: (t: TestContext) => Promise<ConformanceHarness>
  /** What the authorization URL must carry. */
  readonly expected: {
    readonly redirectUri: string
    readonly scopes: readonly string[]
    readonly scopeSeparator: ' ' | ','
  }
  /** Checks that do not apply, each with its reason. */
  readonly skip?: Partial<Record<ConformanceCheck, string>>
}

const DAY = 86_400_000

/**
 * Adds every access and refresh token an emulator's answer hands out to `issued` (a harness's
 * `issuedSecrets`), reading a copy of the answer so the caller still reads it whole.
 */
export async function recordIssuedTokens(response: Response, issued: Set<string>): Promise<void> {
  const text = await response.clone().text()
  for (const match of text.matchAll(/"(?:access|refresh)_token"\s*:\s*"([^"]+)"/g))
    if (match[1] !== undefined) issued.add(match[1])
}

export function runProviderConformance(options: ProviderConformanceOptions): void {
  const check = (name: ConformanceCheck, title: string, fn: (t: TestContext) => Promise<void>) => {
    const reason = options.skip?.[name]
    if (reason !== undefined) test(`${name}: ${title}`, { skip: reason }, () => undefined)
    else test(`${name}: ${title}`, fn)
  }

  /** A connected harness: authorized, exchanged, with the credentials. */
  async function connected(t: TestContext) {
    const h = await options.setup(t)
    const state = 'conformance-state-0123456789abcdefghijklmnopqr'
    // with PKCE where the platform takes it, as the service connects
    if (h.client.capabilities.pkce === 'none') {
      const code = await h.authorize(h.client.authorizationUrl(state))
      return { h, code, credentials: await h.client.exchangeCode(code) }
    }
    const verifier = createCodeVerifier()
    const code = await h.authorize(h.client.authorizationUrl(state, codeChallengeS256(verifier)))
    return { h, code, credentials: await h.client.exchangeCode(code, verifier) }
  }

  describe(`provider conformance: ${options.name}`, () => {
    check(
      'authorize-url',
      'exact redirect_uri, the state, the scopes joined as declared',
      async (t) => {
        const h = await options.setup(t)
        const url = new URL(h.client.authorizationUrl('state-value-with-URL+chars/='))
        assert.equal(url.protocol, 'https:', 'the consent page is https')
        assert.equal(url.searchParams.get('redirect_uri'), options.expected.redirectUri)
        assert.equal(url.searchParams.get('state'), 'state-value-with-URL+chars/=')
        assert.equal(url.searchParams.get('response_type'), 'code')
        assert.equal(
          h.client.capabilities.scopeSeparator,
          options.expected.scopeSeparator,
          'the declared separator',
        )
        assert.equal(
          url.searchParams.get('scope'),
          options.expected.scopes.join(options.expected.scopeSeparator),
        )
        assert.equal(url.searchParams.getAll('state').length, 1)
      },
    )

    check('pkce', 'an S256 challenge where PKCE applies, and the verifier it needs', async (t) => {
      const h = await options.setup(t)
      const pkce = h.client.capabilities.pkce
      const state = 'conformance-pkce-state-0123456789abcdefghijk'
      if (pkce === 'none') {
        // the service sends no challenge, and the platform's URL carries none of its own
        const url = new URL(h.client.authorizationUrl(state))
        assert.equal(url.searchParams.get('code_challenge'), null)
        assert.equal(url.searchParams.get('code_challenge_method'), null)
        return
      }
      const verifier = createCodeVerifier()
      const challenge = codeChallengeS256(verifier)
      const url = new URL(h.client.authorizationUrl(state, challenge))
      assert.equal(url.searchParams.get('code_challenge'), challenge)
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
      // the exchange with another verifier is refused; with the right one it works
      const code = await h.authorize(url.toString())
      if (pkce === 'required')
        await assert.rejects(h.client.exchangeCode(code, createCodeVerifier()), isGalleryError)
      const again = await h.authorize(h.client.authorizationUrl(state, challenge))
      const credentials = await h.client.exchangeCode(again, verifier)
      assert.ok(credentials.accessToken.length > 0)
    })

    check(
      'code-exchange',
      'a code gives credentials once; a replayed code is refused',
      async (t) => {
        const { h, code, credentials } = await connected(t)
        assert.ok(credentials.accessToken.length >= 16)
        assert.ok(credentials.issuedAt > 0)
        if (credentials.accessTokenExpiresAt !== null)
          assert.ok(credentials.accessTokenExpiresAt > credentials.issuedAt, 'expires after issue')
        await assert.rejects(h.client.exchangeCode(code), (error: unknown) => {
          assert.ok(isGalleryError(error), String(error))
          assert.ok(!error.message.includes(code), 'the code is not in the message')
          return true
        })
      },
    )

    check('renewal', 'credentials are renewed as the capabilities say', async (t) => {
      const { h, credentials } = await connected(t)
      const renewal = h.client.capabilities.renewal
      if (renewal.kind === 'none') return
      // extended tokens: only once old enough; refresh tokens: any time
      const minAgeMs = renewal.kind === 'extend_access_token' ? renewal.minAgeMs : 0
      h.advance(minAgeMs + 1000)
      const renewed = await h.client.renew(credentials)
      assert.notEqual(renewed.accessToken, '')
      assert.ok(renewed.issuedAt >= credentials.issuedAt + minAgeMs)
      if (renewal.kind === 'refresh_token' && renewal.rotating)
        assert.notEqual(renewed.refreshToken, credentials.refreshToken, 'a rotating refresh token')
      if (credentials.accessTokenExpiresAt !== null && renewed.accessTokenExpiresAt !== null)
        assert.ok(renewed.accessTokenExpiresAt > credentials.accessTokenExpiresAt, 'lives longer')
      // the renewed credentials work
      await h.client.fetchIdentity(renewed)
    })

    check(
      'refresh-rotation',
      'a refresh rotates the refresh token; the spent one is refused as a reconnect, without secrets',
      async (t) => {
        const { h, credentials } = await connected(t)
        const renewal = h.client.capabilities.renewal
        assert.ok(
          renewal.kind === 'refresh_token' && renewal.rotating,
          'only platforms whose refresh tokens rotate run this check',
        )
        assert.ok(credentials.refreshToken !== null, 'a rotating platform issues a refresh token')
        h.advance(60_000)
        const renewed = await h.client.renew(credentials)
        assert.ok(renewed.refreshToken !== null)
        assert.notEqual(renewed.refreshToken, credentials.refreshToken, 'a new refresh token')
        // the refresher's single flight relies on this: a spent token is a clear reconnect
        // (re-read first: another worker may hold newer credentials), never a silent success
        await assert.rejects(h.client.renew(credentials), (error: unknown) => {
          assert.ok(isGalleryError(error), String(error))
          assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
          for (const secret of h.issuedSecrets())
            assert.ok(!error.message.includes(secret), 'a secret in the message')
          return true
        })
        // the new one works, and rotates again
        const again = await h.client.renew(renewed)
        assert.notEqual(again.refreshToken, renewed.refreshToken)
        const lookup = await h.client.fetchIdentity(again)
        assert.ok(lookup.ok)
      },
    )

    check('revoke', 'a grant revoked at the platform stops working there', async (t) => {
      const { h, credentials } = await connected(t)
      if (h.client.capabilities.revocation === 'none') {
        assert.equal('revoke' in h.client, false, 'no revocation endpoint: no revoke')
        return
      }
      assert.ok('revoke' in h.client, 'revocation: endpoint needs revoke')
      await h.client.revoke?.(credentials)
      await assert.rejects(h.client.fetchIdentity(credentials), (error: unknown) => {
        assert.ok(isGalleryError(error))
        assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
        return true
      })
    })

    check('identity', 'string ids, https profile and avatar, eligibility', async (t) => {
      const { h, credentials } = await connected(t)
      const lookup = await h.client.fetchIdentity(credentials)
      assert.ok(lookup.ok, 'the harness connects an eligible account')
      const identity = lookup.identity
      assert.equal(typeof identity.providerAccountId, 'string')
      assert.match(identity.providerAccountId, /^[A-Za-z0-9_-]{1,64}$/)
      for (const alias of identity.aliases) assert.equal(typeof alias, 'string')
      assert.ok(identity.username.length > 0)
      assert.equal(new URL(identity.profileUrl).protocol, 'https:')
      if (identity.avatarUrl !== null) assert.equal(new URL(identity.avatarUrl).protocol, 'https:')
      assert.deepEqual(h.client.checkEligible(identity), { ok: true })
    })

    check('listing', 'every post once, newest first, https links, string ids', async (t) => {
      const { h, credentials } = await connected(t)
      const ids: string[] = []
      let cursor: string | null = null
      let previous = Number.POSITIVE_INFINITY
      for (let pages = 0; pages < 100; pages++) {
        const page = await h.client.listMedia(credentials, cursor)
        for (const item of page.items) {
          assert.equal(typeof item.platform_media_id, 'string')
          assert.ok(item.timestamp <= previous, 'newest first')
          previous = item.timestamp
          for (const link of [item.permalink, item.media_url, item.thumbnail_url])
            if (link !== null) assert.equal(new URL(link).protocol, 'https:', link)
          for (const child of item.children) assert.equal(typeof child.platform_media_id, 'string')
          ids.push(item.platform_media_id)
        }
        cursor = page.nextCursor
        if (cursor === null) break
      }
      assert.equal(cursor, null, 'the listing ends')
      assert.deepEqual(ids, h.postIds(), 'every post, once, in the platform’s order')
    })

    check(
      'read-media',
      'readMedia returns fresh URLs for known ids and reports unknown ids',
      async (t) => {
        const { h, credentials } = await connected(t)
        if (h.client.readMedia === undefined) {
          // stable URLs never need reading again; signed ones do
          assert.equal(h.client.capabilities.mediaUrls, 'stable', 'signed URLs need readMedia')
          return
        }
        const listed = (await h.client.listMedia(credentials, null)).items
        const known = listed.slice(0, 3)
        assert.ok(known.length > 0, 'the emulator account has posts')
        const withUrls = known.filter((m) => (m.media_url ?? m.thumbnail_url) !== null)
        assert.ok(withUrls.length > 0, 'posts with media URLs')
        // past every signed URL's expiry (Instagram's days, TikTok's hours), without a listing
        h.advance(4 * DAY)
        const current =
          h.client.capabilities.renewal.kind === 'refresh_token'
            ? await h.client.renew(credentials)
            : credentials
        const unknown = '9999999999999999999'
        const read = await h.client.readMedia(current, [
          ...known.map((m) => m.platform_media_id),
          unknown,
        ])
        assert.deepEqual(read.missingIds, [unknown], 'the unknown id is reported, not thrown')
        assert.deepEqual(
          read.items.map((m) => m.platform_media_id).sort(),
          known.map((m) => m.platform_media_id).sort(),
          'every known id read once',
        )
        for (const item of read.items) {
          const before = known.find((m) => m.platform_media_id === item.platform_media_id)
          assert.ok(before !== undefined)
          assert.equal(item.media_type, before.media_type, 'the same shape as the listing')
          assert.equal(item.children.length, before.children.length, 'children included')
          for (const link of [item.media_url, item.thumbnail_url])
            if (link !== null) assert.equal(new URL(link).protocol, 'https:', link)
          if (h.client.capabilities.mediaUrls !== 'signed') continue
          if ((before.media_url ?? before.thumbnail_url) === null) continue
          assert.notEqual(
            item.media_url ?? item.thumbnail_url,
            before.media_url ?? before.thumbnail_url,
            'a fresh URL',
          )
          assert.ok(
            item.url_expires_at !== null &&
              before.url_expires_at !== null &&
              item.url_expires_at > before.url_expires_at,
            'expiring later',
          )
        }
        // a read of nothing but gone ids reports them all
        assert.deepEqual(await h.client.readMedia(current, [unknown]), {
          items: [],
          missingIds: [unknown],
        })
      },
    )

    check('cursor-has-no-token', 'cursors never carry an issued token or code', async (t) => {
      const { h, credentials } = await connected(t)
      const page = await h.client.listMedia(credentials, null)
      assert.ok(page.nextCursor !== null, 'the emulator account needs more than one page')
      for (const secret of h.issuedSecrets())
        assert.ok(!page.nextCursor.includes(secret), 'a token in the cursor')
      // and a cursor resumes the listing on its own (it is stored between runs)
      const next = await h.client.listMedia(credentials, page.nextCursor)
      assert.ok(next.items.length > 0)
      assert.notEqual(next.items[0]?.platform_media_id, page.items[0]?.platform_media_id)
    })

    check('failure-taxonomy', 'each failure maps to its error code, without secrets', async (t) => {
      const { h, credentials } = await connected(t)
      const expected: Record<InjectedFailure, string> = {
        unavailable: 'ERR_PROVIDER_UNAVAILABLE',
        timeout: 'ERR_PROVIDER_UNAVAILABLE',
        rate_limited: 'ERR_RATE_LIMITED',
        refused: 'ERR_PROVIDER_RESPONSE',
        reauth: 'ERR_REAUTH_REQUIRED',
      }
      // reauth last: it ends the connection
      for (const kind of ['unavailable', 'timeout', 'rate_limited', 'refused', 'reauth'] as const) {
        h.fail(kind)
        await assert.rejects(h.client.listMedia(credentials, null), (error: unknown) => {
          assert.ok(isGalleryError(error), `${kind}: ${String(error)}`)
          assert.equal(error.code, expected[kind], `${kind}: ${error.message}`)
          if (kind === 'rate_limited') {
            const seconds = error.retryAfterSeconds ?? 0
            assert.ok(seconds > 0 && seconds <= DAY / 1000, `${kind}: retry after ${seconds}`)
          }
          for (const secret of h.issuedSecrets())
            assert.ok(!error.message.includes(secret), `${kind}: a secret in the message`)
          return true
        })
      }
    })

    check('redaction', 'the logger scrubs every token and code the platform issues', async (t) => {
      const { h, credentials } = await connected(t)
      await h.client.renew(credentials).catch(() => undefined)
      const secrets = h.issuedSecrets()
      assert.ok(secrets.length >= 2, 'the emulator reported what it issued')
      for (const secret of secrets) {
        const line = `failed with ${secret} (and "${secret}")`
        assert.ok(!redactText(line).includes(secret), `not scrubbed: ${secret.slice(0, 6)}…`)
      }
    })
  })
}
