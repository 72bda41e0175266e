/**
 * @module log/logger — structured JSON logs (pino) that never carry tokens, codes, state values,
 * secrets, cookies or OAuth query strings.
 *
 * Three layers: request URLs are logged without their query string; well-known secret fields are
 * redacted by path; and free text (error messages, stacks) is scrubbed of anything that looks like
 * a token or a secret-bearing query parameter.
 */
import { pino, type DestinationStream, type Logger } from 'pino'
import { CONNECTABLE } from '../providers/registry.ts'

const SECRET_QUERY =
  /\b(access_token|client_secret|code|state|token|signed_request|password)=[^&\s"'<>]*/gi
/** Our own Fernet tokens, and the token and code shapes each platform's folder declares. */
const SECRET_SHAPES: readonly RegExp[] = [
  /\bgAAAAA[A-Za-z0-9_\-=]{20,}/g,
  ...CONNECTABLE.flatMap((platform) => platform.secretShapes),
]

/** Scrubs secret-looking substrings out of free text. */
export function redactText(text: string): string {
  let out = text.replace(SECRET_QUERY, '$1=[REDACTED]')
  for (const shape of SECRET_SHAPES) out = out.replace(shape, '[REDACTED]')
  return out
}

/** A URL's path only: query strings (callback codes, state, Graph tokens) are never logged. */
export function pathOnly(url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? url : `${url.slice(0, q)}?[REDACTED]`
}

/**
 * Field names that always hold a secret, at the top level or one level down (`*.x` alone does not
 * match a top-level `x`).
 */
const SECRET_FIELDS = [
  'access_token',
  'accessToken',
  'token',
  'client_secret',
  'clientSecret',
  'password',
  'secret',
  'encrypted_access_token',
  'encrypted_credentials',
  'refresh_token',
  'refreshToken',
  'code_verifier',
  'codeVerifier',
  'encrypted_code_verifier',
  'signed_request',
]

/**
 * `code` and `state` are not redacted by name anywhere: pino runs serializers before redaction,
 * so `*.code` censored every error's `code` (ECONNREFUSED, 23505, ERR_…) and `*.state` every
 * harmless status field. An OAuth code or state only ever reaches the service in the callback's
 * query string: request URLs are logged by path only (`pathOnly`), free text is scrubbed
 * (`redactText`), and a query object logged as such is redacted by the `query.` paths below. No
 * log call passes a code or state in any other field.
 */
const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  'query.code',
  'query.state',
  '*.query.code',
  '*.query.state',
]

export interface LoggerOptions {
  readonly level: string
  /** Where lines go (default stdout); tests pass a collecting stream. */
  readonly destination?: DestinationStream
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      serializers: {
        req(req: { method?: string; url?: string; ip?: string }) {
          return { method: req.method, url: pathOnly(req.url ?? ''), remoteAddress: req.ip }
        },
        res(res: { statusCode?: number }) {
          return { statusCode: res.statusCode }
        },
        err(err: unknown) {
          if (!(err instanceof Error)) return { message: redactText(String(err)) }
          const code = 'code' in err ? String(err.code) : undefined
          return {
            type: err.name,
            code,
            message: redactText(err.message),
            stack: redactText(err.stack ?? ''),
          }
        },
      },
    },
    options.destination,
  )
}
