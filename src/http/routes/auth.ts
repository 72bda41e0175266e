/**
 * @module http/routes/auth — local accounts: register, sign in, sign out, who am I.
 * Errors are generic: a wrong email and a wrong password read the same.
 */
import type { FastifyInstance } from 'fastify'
import { GalleryError } from '../../errors.ts'
import { hashPassword, isPasswordHash, verifyPassword } from '../../identity/password.ts'
import type { AppContext } from '../context.ts'

export const PASSWORD_MIN_LENGTH = 10
const credentialsSchema = {
  type: 'object',
  required: ['email', 'password'],
  additionalProperties: false,
  properties: {
    email: {
      type: 'string',
      minLength: 3,
      maxLength: 254,
      pattern: '^\\s*[^\\s@]+@[^\\s@]+\\.[^\\s@]+\\s*$',
    },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const

interface Credentials {
  email: string
  password: string
}

/** Invisible and formatting characters (zero-width space, bidi controls, …: Unicode `Cf`). */
const FORMAT_CHARACTERS = /\p{Cf}/u

/**
 * The one spelling of an e-mail address we store and look up: NFKC (fullwidth letters, the
 * Kelvin sign and other compatibility forms become their plain letters), lower case, trimmed.
 * Addresses holding invisible characters are refused, so look-alikes cannot become separate
 * accounts. @throws ERR_VALIDATION
 */
export function normaliseEmail(raw: string): string {
  const email = raw.normalize('NFKC').trim().toLowerCase()
  if (FORMAT_CHARACTERS.test(email))
    throw new GalleryError(
      'ERR_VALIDATION',
      'The e-mail address contains invisible or formatting characters; type it again',
      { details: [{ path: 'body.email', message: 'contains invisible characters' }] },
    )
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/u.test(email))
    throw new GalleryError('ERR_VALIDATION', 'The e-mail address is not valid', {
      details: [{ path: 'body.email', message: 'must be an e-mail address' }],
    })
  return email
}

export function authRoutes(ctx: AppContext) {
  // A real hash to compare against when the email is unknown, so timing does not tell.
  const dummyHash = hashPassword('not-a-real-password', ctx.passwordCost)

  /** In Firebase mode people sign in with Firebase, never with a local password. */
  const refuseInFirebaseMode = (): void => {
    if (ctx.config.auth.mode === 'firebase')
      throw new GalleryError(
        'ERR_FORBIDDEN',
        'This server signs people in with Firebase: sign in there and send the ID token as Authorization: Bearer',
      )
  }

  return async function register(app: FastifyInstance): Promise<void> {
    app.post<{ Body: Credentials }>(
      '/api/auth/register',
      { schema: { body: credentialsSchema } },
      async (request, reply) => {
        refuseInFirebaseMode()
        await ctx.throttle.hit('register', request.ip)
        const email = normaliseEmail(request.body.email)
        const password = request.body.password
        if ([...password].length < PASSWORD_MIN_LENGTH) {
          throw new GalleryError(
            'ERR_VALIDATION',
            `Password must be at least ${PASSWORD_MIN_LENGTH} characters`,
            {
              details: [
                {
                  path: 'body.password',
                  message: `must be at least ${PASSWORD_MIN_LENGTH} characters`,
                },
              ],
            },
          )
        }
        const passwordHash = await hashPassword(password, ctx.passwordCost)
        let user
        try {
          user = await ctx.store.createUser({
            email,
            password_hash: passwordHash,
            now: ctx.clock.now(),
          })
        } catch (error) {
          if (error instanceof GalleryError && error.code === 'ERR_CONFLICT') {
            throw new GalleryError(
              'ERR_CONFLICT',
              'Could not register with this email; sign in instead if it is yours',
            )
          }
          throw error
        }
        await ctx.sessions.start(request, reply, user.id)
        // a brand-new user: this browser cannot be one of theirs yet
        await ctx.sessions.rememberDevice(request, reply, user.id, null)
        request.log.info({ userId: user.id }, 'user registered')
        return reply.code(201).send({ user: { id: user.id, email: user.email } })
      },
    )

    app.post<{ Body: Credentials }>(
      '/api/auth/login',
      { schema: { body: credentialsSchema } },
      async (request, reply) => {
        refuseInFirebaseMode()
        const email = normaliseEmail(request.body.email)
        const user = await ctx.store.findUserByEmail(email)
        const device = user === null ? null : await ctx.sessions.knownDevice(request, user.id)
        if (device !== null) {
          await ctx.throttle.hit('loginKnownDevice', device)
        } else {
          await ctx.throttle.hit('loginIp', request.ip)
          await ctx.throttle.hit('loginAccount', email, request.ip)
          await ctx.throttle.hit('loginUnknownDevices', email)
        }
        // users without a password of ours (Firebase, imported) cost the same scrypt as everyone,
        // so timing tells no one which addresses exist
        const hasPassword = user !== null && isPasswordHash(user.password_hash)
        const ok = await verifyPassword(
          request.body.password,
          hasPassword ? user.password_hash : await dummyHash,
        )
        if (user === null || !hasPassword || !ok) {
          request.log.info('sign-in failed')
          throw new GalleryError('ERR_UNAUTHENTICATED', 'Invalid email or password')
        }
        await ctx.sessions.start(request, reply, user.id)
        await ctx.sessions.rememberDevice(request, reply, user.id, device)
        request.log.info({ userId: user.id, knownDevice: device !== null }, 'signed in')
        return { user: { id: user.id, email: user.email } }
      },
    )

    app.post('/api/auth/logout', async (request, reply) => {
      await ctx.sessions.end(request, reply)
      return reply.code(204).send()
    })

    app.get('/api/auth/me', async (request) => {
      const principal = await ctx.requireUser(request)
      const user = await ctx.store.findUserById(principal.userId)
      if (user === null) throw new GalleryError('ERR_UNAUTHENTICATED', 'Sign in first')
      return {
        user: { id: user.id, email: user.email },
        sandbox: Object.values(ctx.modes).includes('sandbox'),
      }
    })
  }
}
