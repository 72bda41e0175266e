/**
 * @module webhooks/secrets — the formats `WEBHOOK_SECRET` accepts, and the Standard Webhooks key of
 * each.
 *
 * The variable holds one or more secrets separated by spaces (rotation: every secret signs every
 * delivery, so a receiver keeps working with whichever one it knows). Each secret is either
 *
 * - `whsec_<base64>` (Standard Webhooks): the key is the base64-decoded part, 24 to 64 bytes; or
 * - a plain secret of at least 32 characters (the only format before Standard Webhooks): the key is
 *   its UTF-8 bytes, so the receiver configures `whsec_` + base64(secret) (see {@link toWhsec}).
 *
 * Secrets therefore never contain spaces. Messages never include a secret.
 */
export const WHSEC_PREFIX = 'whsec_'
export const WHSEC_MIN_BYTES = 24
export const WHSEC_MAX_BYTES = 64
export const PLAIN_SECRET_MIN_LENGTH = 32

/** Standard base64 (`A-Z a-z 0-9 + /`) with its `=` padding, as the Standard Webhooks libraries read it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const GENERATE =
  'whsec_ followed by the base64 of 24 to 64 random bytes (`openssl rand -base64 32`)'

/** The secrets of a `WEBHOOK_SECRET` value, in order (the first also signs the deprecated headers). */
export function splitWebhookSecrets(value: string): string[] {
  return value.split(/\s+/).filter((secret) => secret !== '')
}

/**
 * The same secret in the Standard Webhooks format: a `whsec_` secret as it is, a plain one as
 * `whsec_` + base64 of its UTF-8 bytes (what a receiver configures for a legacy secret).
 */
export function toWhsec(secret: string): string {
  return secret.startsWith(WHSEC_PREFIX)
    ? secret
    : WHSEC_PREFIX + Buffer.from(secret, 'utf8').toString('base64')
}

/**
 * Checks each secret of a non-empty `WEBHOOK_SECRET` value; `problems` name the variable (and the
 * secret's position when there are several), never the secret itself.
 */
export function checkWebhookSecrets(
  variable: string,
  value: string,
): { secrets: string[]; problems: string[] } {
  const secrets = splitWebhookSecrets(value)
  const problems: string[] = []
  secrets.forEach((secret, index) => {
    const which = secrets.length === 1 ? variable : `${variable} (secret #${index + 1})`
    if (secret.startsWith(WHSEC_PREFIX)) {
      const encoded = secret.slice(WHSEC_PREFIX.length)
      if (!BASE64.test(encoded))
        problems.push(
          `${which} starts with whsec_ but the rest is not valid base64 (A-Z, a-z, 0-9, + and /, padded with =): use ${GENERATE}`,
        )
      else {
        const bytes = Buffer.from(encoded, 'base64').length
        if (bytes < WHSEC_MIN_BYTES || bytes > WHSEC_MAX_BYTES)
          problems.push(
            `${which} is a whsec_ secret of ${bytes} bytes; it must decode to ${WHSEC_MIN_BYTES} to ${WHSEC_MAX_BYTES} bytes: use ${GENERATE}`,
          )
      }
    } else if (secret.length < PLAIN_SECRET_MIN_LENGTH) {
      problems.push(
        `${variable} (at least ${PLAIN_SECRET_MIN_LENGTH} characters) is required when WEBHOOK_URL is set: ` +
          `${secrets.length === 1 ? 'it is' : `secret #${index + 1} is`} a plain secret shorter than that; better, use ${GENERATE}`,
      )
    }
    if (secrets.indexOf(secret) !== index)
      problems.push(`${which} repeats secret #${secrets.indexOf(secret) + 1}`)
  })
  return { secrets, problems }
}
