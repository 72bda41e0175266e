/**
 * @module log/logger — structured JSON logs (pino) that never carry tokens, codes, state values,
 * secrets, cookies or OAuth query strings.
 *
 * Three layers: request URLs are logged without their query string; well-known secret fields are
 * redacted by path; and free text (error messages, stacks) is scrubbed of anything that looks like
 * a token or a secret-bearing query parameter.
 */
import { pino, type DestinationStream, type Logger } from 'pino'

const SECRET_QUERY =
  /\b(access_token|client_secret|code|state|token|signed_request|password)=[^&\s"'<>]*/gi
const SECRET_SHAPES = [
  /\bIG[A-Za-z0-9]{2}[A-Za-z0-9_\-.]{16,}/g, // Instagram access tokens (IGAA…, IGQV…)
  /\bgAAAAA[A-Za-z0-9_\-=]{20,}/g, // Fernet tokens
  /\bAQ[A-Za-z0-9_-]{40,}/g, // authorization codes
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

const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.access_token',
  '*.accessToken',
  '*.token',
  '*.code',
  '*.state',
  '*.client_secret',
  '*.clientSecret',
  '*.password',
  '*.secret',
  '*.encrypted_access_token',
  '*.signed_request',
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
