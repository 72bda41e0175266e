/**
 * @module errors — the one error base type of the service, with a closed set of codes.
 *
 * Every failure the service reports to a client is a `GalleryError`; its `code` picks the HTTP
 * status and is what clients match on. Messages are written for people and never carry secrets.
 */

/** HTTP status for each error code: the closed set of codes the API can answer with. */
export const ERROR_STATUS = {
  ERR_VALIDATION: 400,
  ERR_UNAUTHENTICATED: 401,
  ERR_FORBIDDEN: 403,
  ERR_NOT_FOUND: 404,
  ERR_CONFLICT: 409,
  ERR_PAYLOAD_TOO_LARGE: 413,
  /** The request's `Host` is not a name this server answers to (DNS-rebinding defence). */
  ERR_MISDIRECTED: 421,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_RATE_LIMITED: 429,
  ERR_REAUTH_REQUIRED: 409,
  ERR_PROVIDER_RESPONSE: 502,
  ERR_PROVIDER_UNAVAILABLE: 503,
  ERR_NOT_CONFIGURED: 503,
  ERR_STORE: 503,
  /** This instance is stopping (a deploy or scale-in): another instance answers in a moment. */
  ERR_SHUTTING_DOWN: 503,
  ERR_CONFIG_INVALID: 500,
  ERR_INVALID_TOKEN: 500,
  ERR_INTERNAL: 500,
} as const

export type GalleryErrorCode = keyof typeof ERROR_STATUS

/** One issue of a validation error, with the path of the offending field. */
export interface ErrorDetail {
  readonly path: string
  readonly message: string
}

export interface GalleryErrorOptions {
  readonly cause?: unknown
  readonly details?: readonly ErrorDetail[]
  /** Seconds a client should wait before trying again (429 / 503). */
  readonly retryAfterSeconds?: number
}

/** The base (and only) error type the service throws on purpose. */
export class GalleryError extends Error {
  override readonly name = 'GalleryError'
  readonly code: GalleryErrorCode
  readonly details: readonly ErrorDetail[] | undefined
  readonly retryAfterSeconds: number | undefined

  constructor(code: GalleryErrorCode, message: string, options: GalleryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options.details
    this.retryAfterSeconds = options.retryAfterSeconds
  }

  get status(): number {
    return ERROR_STATUS[this.code]
  }
}

export function isGalleryError(value: unknown): value is GalleryError {
  return value instanceof GalleryError
}

/** The JSON error envelope every error response uses. */
export interface ErrorEnvelope {
  error: { code: GalleryErrorCode; message: string; errors?: ErrorDetail[] }
}

export function toEnvelope(error: GalleryError): ErrorEnvelope {
  const body: ErrorEnvelope = { error: { code: error.code, message: error.message } }
  if (error.details !== undefined && error.details.length > 0)
    body.error.errors = [...error.details]
  return body
}
