/**
 * The bare baseline of the read-path and start-up benchmarks: Fastify with no plugins and no
 * logging, answering the same bytes our API answered (read from files once) from memory.
 * Env: PORT, MEDIA_BODY, ACCOUNTS_BODY (file paths; empty answers when unset).
 */
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

const body = (file: string | undefined): Buffer =>
  file === undefined || file === '' ? Buffer.from('{}') : readFileSync(file)
const media = body(process.env.MEDIA_BODY)
const accounts = body(process.env.ACCOUNTS_BODY)

const app = Fastify({ logger: false })
app.get('/healthz', async () => ({ ok: true }))
app.get('/api/socials/media', async (_request, reply) =>
  reply.type('application/json; charset=utf-8').send(media),
)
app.get('/api/socials/accounts', async (_request, reply) =>
  reply.type('application/json; charset=utf-8').send(accounts),
)
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
