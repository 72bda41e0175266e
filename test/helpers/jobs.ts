/**
 * Helpers for job tests: run what is due, shape the emulator through its control API, and read
 * what the emulator saw.
 */
import type { JobsReport } from '../../src/socials/job-runner.ts'
import type { TestApp } from './build-app.ts'

export const HOUR = 3_600_000
export const DAY = 24 * HOUR

/** One pass of the scheduler (what the in-process timer and the jobs endpoint run). */
export function runDue(app: TestApp): Promise<JobsReport> {
  return app.app.jobs.runner.runDue()
}

async function control(
  app: TestApp,
  method: 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const response = await app.app.inject({
    method,
    url: `/sandbox/instagram/_control${path}`,
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
  })
  if (response.statusCode >= 300)
    throw new Error(`emulator control ${path}: ${response.statusCode} ${response.body}`)
  return response.statusCode === 204 ? null : response.json()
}

/**
 * Publishes a new post on the emulated Instagram account; returns its id. The clock moves one
 * second first: Graph timestamps have one-second precision, and posts made in the same second
 * have no defined order.
 */
export async function publish(app: TestApp, userIndex = 1, caption?: string): Promise<string> {
  app.clock.advance(1000)
  const body = (await control(app, 'POST', `/users/${userIndex}/media`, {
    ...(caption === undefined ? {} : { caption }),
  })) as { id: string }
  return body.id
}

export async function unpublish(app: TestApp, mediaId: string): Promise<void> {
  await control(app, 'DELETE', `/media/${mediaId}`)
}

/** Graph and token calls the emulator received so far (paths only; never tokens). */
export function emulatorCalls(app: TestApp): number {
  return app.emulator.state.calls.length
}

export async function storedMediaIds(app: TestApp): Promise<string[]> {
  return (
    await app.raw(
      'SELECT platform_media_id FROM media WHERE parent_id IS NULL ORDER BY timestamp DESC',
    )
  ).map((r) => String(r.platform_media_id))
}

export async function accountRow(app: TestApp): Promise<Record<string, unknown>> {
  return (await app.raw('SELECT * FROM user_social_accounts'))[0] ?? {}
}
