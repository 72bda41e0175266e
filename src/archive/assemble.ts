/**
 * @module archive/assemble — the archiver put together from the configuration, in one place for
 * the service (`buildApp`) and for `npm run archive -- backfill`, which runs it outside the app:
 *
 * - `archiveSource`: where the archive downloads one wired platform's media from (real mode: only
 *   the platform's media servers; sandbox mode: only its emulator, reached in-process);
 * - `wireArchiveSources`: every configured platform wired into a Fastify instance of the
 *   caller's (sandbox emulators are mounted on it), for a process that serves nothing;
 * - `assembleArchiver`: the archiver with the configuration's limits.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Clock } from '../clock.ts'
import type { Config } from '../config/load-config.ts'
import type { Store } from '../store/types.ts'
import type {
  ConnectablePlatform,
  FetchLike,
  PlatformWiring,
  ProviderConfig,
  ProviderMode,
} from '../providers/types.ts'
import { CONNECTABLE } from '../providers/registry.ts'
import type { BlobStore } from './blobs/types.ts'
import type { DeriveOptions } from './images/derive.ts'
import type { DownloadSource } from './download.ts'
import { createArchiver, type Archiver, type MediaUrlRefresher } from './archiver.ts'

/** Where the archive downloads a wired platform's media from. */
export function archiveSource(
  platform: ConnectablePlatform,
  mode: ProviderMode,
  media: PlatformWiring['media'],
): DownloadSource {
  return {
    fetch: media.fetch,
    // real mode reaches only the platform's media servers; the sandbox only its emulator
    origins: mode === 'real' ? platform.mediaOrigins : [],
    ...(media.sandboxBase === undefined ? {} : { sandboxBase: media.sandboxBase }),
    label: platform.info.label,
  }
}

/**
 * Wires every configured platform into `app` (its sandbox emulator, in sandbox mode, with the
 * secrets `sandboxSeed` derives, as the service does) and returns their download sources.
 */
export async function wireArchiveSources(env: {
  readonly app: FastifyInstance
  readonly config: Config
  readonly clock: Clock
  readonly fetch?: FetchLike
  readonly sandboxSeed?: string
}): Promise<Map<string, DownloadSource>> {
  const realFetch: FetchLike = env.fetch ?? ((input, init) => fetch(input, init))
  const sources = new Map<string, DownloadSource>()
  for (const platform of CONNECTABLE) {
    const id = platform.info.id
    const section = (env.config.providers as Readonly<Record<string, ProviderConfig<unknown>>>)[id]
    if (section === undefined || section.mode === 'unconfigured') continue
    const wiring = await platform.wire({
      app: env.app,
      config: section,
      publicUrl: env.config.publicUrl,
      clock: env.clock,
      fetch: realFetch,
      ...(env.sandboxSeed === undefined ? {} : { sandboxSeed: env.sandboxSeed }),
    })
    sources.set(id, archiveSource(platform, section.mode, wiring.media))
  }
  return sources
}

export interface AssembleArchiverOptions {
  readonly config: Config
  readonly store: Store
  readonly blobs: BlobStore
  readonly clock: Clock
  readonly logger: FastifyBaseLogger
  readonly sources: ReadonlyMap<string, DownloadSource>
  readonly instanceId: string
  readonly derive?: DeriveOptions
  /** Reads expired signed URLs again from the platform (the sync service); absent: they wait. */
  readonly urlRefresher?: MediaUrlRefresher
  /** Items per platform per pass, and how many at once (the archiver's defaults otherwise). */
  readonly batch?: number
  readonly concurrency?: number
}

/**
 * The archiver, with `ARCHIVE_MAX_VIDEO_MB`, `ARCHIVE_MAX_MB_PER_USER` and the other limits from
 * the configuration.
 */
export function assembleArchiver(options: AssembleArchiverOptions): Archiver {
  return createArchiver({
    store: options.store,
    blobs: options.blobs,
    clock: options.clock,
    logger: options.logger,
    sources: options.sources,
    instanceId: options.instanceId,
    maxVideoBytes: options.config.archive.maxVideoBytes,
    maxBytesPerUser: options.config.archive.maxBytesPerUser,
    ...(options.urlRefresher === undefined ? {} : { urlRefresher: options.urlRefresher }),
    ...(options.derive === undefined ? {} : { derive: options.derive }),
    ...(options.batch === undefined ? {} : { batch: options.batch }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  })
}
