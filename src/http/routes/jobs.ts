/**
 * @module http/routes/jobs — `POST /internal/jobs/run-due`, for Cloud Scheduler (Cloud Run
 * instances sleep between requests, so an in-process timer alone is not enough). Protected by a
 * bearer secret (`JOBS_SECRET`), compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { GalleryError } from '../../errors.ts'
import type { JobRunner } from '../../socials/job-runner.ts'

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

export const JOBS_ROUTE = '/internal/jobs/run-due'

export function jobsRoutes(secret: string | null, runner: JobRunner) {
  const expected = secret === null ? null : digest(secret)
  return async function register(app: FastifyInstance): Promise<void> {
    app.post(JOBS_ROUTE, async (request) => {
      if (expected === null)
        throw new GalleryError(
          'ERR_NOT_CONFIGURED',
          'Scheduled jobs endpoint is off: set JOBS_SECRET',
        )
      const header = request.headers.authorization ?? ''
      const token = header.startsWith('Bearer ') ? header.slice(7) : ''
      if (token === '' || !timingSafeEqual(digest(token), expected)) {
        throw new GalleryError('ERR_UNAUTHENTICATED', 'A valid bearer token is required')
      }
      const report = await runner.runDue()
      request.log.info({ report }, 'due jobs ran')
      return report
    })
  }
}
