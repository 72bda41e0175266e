/**
 * @module providers/x/emulator/controller — the X emulator's control interface as code
 * (`emulator.control`): add accounts (with generated posts), add and remove posts, revoke a
 * grant or all grants of an account, expire access tokens, read and set the usage (the month's
 * post reads, the monthly cap, the App's credits), queue faults, move the clock, reset, and read
 * the call log and a snapshot. Tests and the sandbox call it in-process; the standalone
 * emulator's HTTP control API (`control.ts`) is a thin layer over it.
 *
 * Every input is untrusted (`unknown`) and goes through `bounds.ts`; a refused input throws a
 * `ControlError` and changes nothing.
 */
import type { Clock, ManualClock } from '../../../clock.ts'
import { monthAt } from '../../../socials/budget-windows.ts'
import { moveClock } from '../../emulator-core/clock.ts'
import { queueFault } from '../../emulator-core/faults.ts'
import {
  ControlError,
  MAX_POST_CAP,
  field,
  inputObject,
  integer,
  parseClockMove,
  parseFault,
  parseIndex,
  parseNewAccount,
  parseNewPost,
} from './bounds.ts'
import { demoAccounts, generatePosts, makeMedia, snowflake } from './demo-data.ts'
import {
  POST_READ_MICROS,
  type CallRecord,
  type Fault,
  type XAccount,
  type XEmulatorState,
} from './state.ts'

export interface AccountSummary {
  readonly index: number
  readonly id: string
  readonly name: string
  readonly username: string
  readonly postCount: number
}

export interface XUsageSummary {
  /** Post reads in the current UTC month. */
  readonly postsRead: number
  readonly monthlyCap: number
  /** When the month's count resets (the 1st, midnight UTC), ISO. */
  readonly resetsAt: string
  /** The App's remaining pay-per-use credits in dollars; `null`: not metered. */
  readonly creditsUsd: number | null
}

export interface XSnapshot {
  readonly accounts: AccountSummary[]
  readonly faults: Fault[]
  readonly calls: number
  readonly codes: number
  readonly now: string
  readonly clientId: string
  readonly clientType: string
  readonly usage: XUsageSummary
}

export interface XEmulatorControl {
  /** `{name, username, post_count?}`: a new account with generated posts. */
  addAccount(input: unknown): AccountSummary
  /** A new post at the top of the account's timeline (now unless `created_at`). */
  addPost(accountIndex: number, input?: unknown): { id: string; mediaKeys: string[] }
  /** Deletes a post: it leaves every timeline. */
  removePost(id: string): void
  /** Revokes the grant behind an access or refresh token (as `POST /2/oauth2/revoke` does). */
  revokeToken(token: unknown): { revoked: true }
  /** Revokes every grant of the account issued until now (`x.com/settings/connected_apps`). */
  revokeAccount(accountIndex: number): { revoked: number }
  /** Every access token issued until now answers 401 (refresh tokens stay valid). */
  expireAccessTokens(): { expired: true }
  /** `{posts_read?, monthly_cap?, credits_usd?: number | null}`. */
  setUsage(input: unknown): XUsageSummary
  usage(): XUsageSummary
  addFault(fault: unknown): { faults: number }
  clearFaults(): { faults: 0 }
  /** `{advance_ms}` or `{now}`; only for an emulator on a manual clock (else 409). */
  moveClock(input: unknown): { now: string }
  /** Back to the demo accounts (dated from now): no codes, grants, faults, calls or usage. */
  reset(): { ok: true }
  snapshot(): XSnapshot
  /** The recorded calls (paths only, never tokens), oldest first. */
  calls(): CallRecord[]
}

export function createXController(
  state: XEmulatorState,
  clock: Clock | ManualClock,
): XEmulatorControl {
  const limits = state.limits

  const summary = (a: XAccount): AccountSummary => ({
    index: a.index,
    id: a.id,
    name: a.name,
    username: a.username,
    postCount: a.posts.length,
  })

  const accountAt = (index: number): XAccount => {
    const account = state.accountByIndex(parseIndex(index))
    if (account === undefined) throw new ControlError(404, 'no such account')
    return account
  }

  const usage = (): XUsageSummary => ({
    postsRead: state.postsReadThisMonth(),
    monthlyCap: state.settings.monthlyPostCap,
    resetsAt: new Date(monthAt('UTC', clock.now()).end).toISOString(),
    creditsUsd: state.creditMicros === null ? null : state.creditMicros / 1_000_000,
  })

  /** A fresh sequence number block (ids never repeat within a run). */
  const nextSeq = (n: number): number => {
    state.sequence += n
    return 1_000_000 + state.sequence - n
  }

  return {
    addAccount(input) {
      if (state.accounts.length >= limits.accounts)
        throw new ControlError(400, `the emulator holds at most ${limits.accounts} accounts`)
      const wanted = parseNewAccount(input, limits.totalPosts - state.totalPosts(), limits)
      if (state.accounts.some((a) => a.username.toLowerCase() === wanted.username.toLowerCase()))
        throw new ControlError(409, 'username taken')
      const index = Math.max(0, ...state.accounts.map((a) => a.index)) + 1
      const account: XAccount = {
        index,
        id: String(1_500_000_000_000_000_000n + BigInt(index)),
        name: wanted.name,
        username: wanted.username,
        followers: 0,
        hue: (index * 67) % 360,
        posts: generatePosts(
          wanted.postCount,
          clock.now(),
          nextSeq(wanted.postCount * 8 + 8),
          wanted.name,
        ),
      }
      state.accounts.push(account)
      return summary(account)
    },

    addPost(accountIndex, input) {
      const account = accountAt(accountIndex)
      const wanted = parseNewPost(input, limits)
      if (state.totalPosts() >= limits.totalPosts)
        throw new ControlError(400, `the emulator holds at most ${limits.totalPosts} posts`)
      const at = wanted.createdAt ?? clock.now()
      const seq = nextSeq(8)
      const post = {
        id: snowflake(at, seq),
        text: wanted.text ?? `New post ${state.sequence}`,
        createdAt: at,
        reply: wanted.reply,
        retweet: wanted.retweet,
        media: wanted.media.map((type, j) =>
          makeMedia(type, at, seq + j + 1, (seq * 31 + j * 61) % 360),
        ),
      }
      account.posts.push(post)
      account.posts.sort((a, b) =>
        BigInt(b.id) > BigInt(a.id) ? 1 : BigInt(b.id) < BigInt(a.id) ? -1 : 0,
      )
      return { id: post.id, mediaKeys: post.media.map((m) => m.key) }
    },

    removePost(id) {
      const found = typeof id === 'string' && id.length <= 19 ? state.findPost(id) : null
      if (found === null) throw new ControlError(404, 'no such post')
      found.account.posts = found.account.posts.filter((p) => p !== found.post)
    },

    revokeToken(token) {
      const claims = typeof token === 'string' ? state.parseToken(token) : null
      if (claims === null) throw new ControlError(404, 'not a token this emulator issued')
      state.revokeGrant(claims.g)
      return { revoked: true }
    },

    revokeAccount(accountIndex) {
      const account = accountAt(accountIndex)
      state.revokeAccount(account.index)
      return { revoked: account.index }
    },

    expireAccessTokens() {
      state.accessExpiredBefore = clock.now() + 1
      return { expired: true }
    },

    setUsage(input) {
      const body = inputObject(input, 'a usage change', limits)
      const postsRead = field(body, 'posts_read')
      const cap = field(body, 'monthly_cap')
      const credits = field(body, 'credits_usd')
      if (postsRead === undefined && cap === undefined && credits === undefined)
        throw new ControlError(
          400,
          'nothing to change: give posts_read, monthly_cap or credits_usd',
        )
      const reads =
        postsRead === undefined ? undefined : integer(postsRead, 'posts_read', 0, MAX_POST_CAP)
      const monthlyCap =
        cap === undefined ? undefined : integer(cap, 'monthly_cap', 1, MAX_POST_CAP)
      let micros: number | null | undefined
      if (credits === null) micros = null
      else if (credits !== undefined) {
        if (
          typeof credits !== 'number' ||
          !Number.isFinite(credits) ||
          credits < -1e6 ||
          credits > 1e6
        )
          throw new ControlError(
            400,
            'credits_usd must be a number from -1000000 to 1000000, or null',
          )
        // whole post reads' worth, so that arithmetic stays exact
        micros = Math.round((credits * 1_000_000) / POST_READ_MICROS) * POST_READ_MICROS
      }
      if (reads !== undefined) state.setPostsRead(reads)
      if (monthlyCap !== undefined)
        state.settings = { ...state.settings, monthlyPostCap: monthlyCap }
      if (micros !== undefined) state.creditMicros = micros
      return usage()
    },

    usage,

    addFault(input) {
      return { faults: queueFault(state.faults, parseFault(input, limits), limits.faults) }
    },

    clearFaults() {
      state.faults = []
      return { faults: 0 }
    },

    moveClock(input) {
      return { now: new Date(moveClock(clock, parseClockMove(input, limits))).toISOString() }
    },

    reset() {
      state.accounts = demoAccounts(clock.now())
      state.codes.clear()
      state.currentRefresh.clear()
      state.revokedGrants.clear()
      state.accountRevokedBefore.clear()
      state.rateWindows.clear()
      state.accessExpiredBefore = 0
      state.setPostsRead(0)
      state.creditMicros = null
      state.faults = []
      state.calls = []
      return { ok: true }
    },

    snapshot() {
      return {
        accounts: state.accounts.map(summary),
        faults: state.faults.map((f) => ({ ...f })),
        calls: state.calls.length,
        codes: state.codes.size,
        now: new Date(clock.now()).toISOString(),
        clientId: state.settings.clientId,
        clientType: state.settings.clientType,
        usage: usage(),
      }
    },

    calls() {
      return state.calls.map((c) => ({ ...c }))
    },
  }
}
