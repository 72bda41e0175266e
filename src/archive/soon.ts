/**
 * @module archive/soon — archives right after a sync the person is watching ("Sync now", the
 * first sync after connecting), rather than at the scheduler's next pass minutes later: the
 * gallery then shows its own copies within seconds.
 *
 * Requests coalesce: one loop at a time runs the archiver's passes while they find work (each
 * pass leases at most a batch per platform, so a new account's posts take a few passes), up to
 * `maxRounds`; a request during a loop runs one more loop after it. The scheduler's passes and
 * other instances may archive at the same time: the archive's leases keep them apart.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Archiver, ArchiveReport } from './archiver.ts'

export interface ArchiveSoon {
  /** Archives what is due, soon, in the background (never throws, never waits). */
  request(): void
  /** No more loops; resolves when the one under way (if any) has ended. */
  close(): Promise<void>
}

/** Whether a pass did anything (then another may find more). */
function busy(report: ArchiveReport): boolean {
  return report.queued + report.stored + report.retried + report.failed > 0
}

export function archiveSoon(
  archiver: Archiver,
  logger: FastifyBaseLogger,
  maxRounds = 50,
): ArchiveSoon {
  let running: Promise<void> | null = null
  let again = false
  let closed = false

  async function loop(): Promise<void> {
    do {
      again = false
      for (let round = 0; round < maxRounds && !closed; round++) {
        const report = await archiver.runDue()
        if (!busy(report)) break
      }
    } while (again && !closed)
  }

  return {
    request() {
      if (closed) return
      if (running !== null) {
        again = true
        return
      }
      running = loop()
        .catch((error: unknown) => {
          logger.error({ err: error }, 'archiving after a sync failed (the scheduler retries)')
        })
        .finally(() => {
          running = null
        })
    },
    async close() {
      closed = true
      await running
    },
  }
}
