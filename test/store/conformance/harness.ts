/**
 * The pieces every conformance file shares: the harness a backend supplies, the options of
 * `runStoreConformance`, and the fixtures (a fixed clock, media items, a user, an account).
 */
import type {
  CredentialColumns,
  MediaInput,
  OAuthAccountInput,
  Store,
} from '../../../src/store/types.ts'

export interface StoreHarness {
  readonly store: Store
  /** Runs SQL with `?` placeholders directly against the database. */
  readonly raw: (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>
  readonly dispose: () => Promise<void>
}

export interface ConformanceOptions {
  readonly name: string
  /** A fresh, empty store for each case. */
  readonly create: () => Promise<StoreHarness>
  /**
   * Cases this backend does not run, by exact name, each with the reason (reported as SKIP). A
   * name that matches no case fails the suite, so a renamed case cannot go silently unskipped.
   */
  readonly skip?: Readonly<Record<string, string>>
}

/** What each aggregate's file gets to declare its cases with. */
export interface Conformance {
  /** Declares a case (honouring `skip`); the case gets a fresh store from `harness()`. */
  readonly test: (name: string, fn: () => Promise<void>) => void
  /** The current case's harness. */
  readonly harness: () => StoreHarness
  /** Creates a password user (default `a@example.com`); returns its id. */
  readonly user: (email?: string) => Promise<string>
  /**
   * Connects an Instagram account for `userId` (scoped id `27281358591558845`, token
   * `gAAAAA-encrypted` issued at `NOW`, expiring 60 days later); returns its id.
   */
  readonly account: (userId: string, igId?: string) => Promise<string>
}

export const NOW = 1_750_000_000_000
export const DAY = 86_400_000

/** The token `account()` stores. */
export const TOKEN = 'gAAAAA-encrypted'

export function media(id: string, ts: number, extra: Partial<MediaInput> = {}): MediaInput {
  return {
    platform_media_id: id,
    media_type: 'IMAGE',
    media_product_type: 'FEED',
    media_url: `https://cdn.example/${id}.jpg`,
    thumbnail_url: null,
    url_expires_at: null,
    permalink: `https://www.instagram.com/p/${id}/`,
    caption: `caption ${id}`,
    timestamp: ts,
    duration_seconds: null,
    visibility: 'public',
    children: [],
    ...extra,
  }
}

/**
 * Sealed-credential columns as a connection writes them (format 2), for a store that does not
 * decrypt: `ciphertext` stands for the Fernet token. For Instagram the connection runs out when
 * its access token does (`credentials_expire_at` = `token_expires_at`).
 */
export function credentialColumns(
  expiresAt: number | null,
  issuedAt: number,
  ciphertext: string = TOKEN,
): CredentialColumns {
  return {
    encrypted_credentials: ciphertext,
    credentials_format: 2,
    token_expires_at: expiresAt,
    token_issued_at: issuedAt,
    refresh_token_expires_at: null,
    credentials_expire_at: expiresAt,
  }
}

/** The `upsertOAuthAccount` input of `account()`, to vary in a case. */
export function oauthInput(userId: string, igId = '17841400000000001'): OAuthAccountInput {
  return {
    user_id: userId,
    platform: 'instagram',
    username: 'shop',
    platform_user_id: igId,
    platform_scoped_id: '27281358591558845',
    platform_attributes: { account_type: 'BUSINESS' },
    credentials: credentialColumns(NOW + 60 * DAY, NOW),
    posts_count: 3,
    profile_url: 'https://www.instagram.com/shop/',
    profile_picture_url: null,
    now: NOW,
  }
}
