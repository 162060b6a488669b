import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import { LibsqlClient } from "@effect/sql-libsql"
import { PgClient } from "@effect/sql-pg"
import { createClient, type Client as Sdk } from "@libsql/client"
import { Context, Effect, Layer, Redacted, Schedule } from "effect"

/**
 * The SQL database that @effect/cluster runners coordinate through (SqlRunnerStorage: runners,
 * heartbeats, shard locks; SqlMessageStorage: persisted messages), as an @effect/sql client over libsql.
 *
 * - `postgres://USER@HOST:PORT/DB` (or `postgresql://`) — PostgreSQL via @effect/sql-pg: for runners on
 *   several hosts (the cluster then locks shards with PostgreSQL advisory locks).
 * - `file:PATH` — a SQLite file via libsql: several processes on ONE machine (SQLite's locking needs a
 *   local disk, not NFS).
 * - `libsql://…`, `http(s)://…`, `ws(s)://…` — a libsql / sqld server (untested here).
 *
 * On libsql, two adjustments make a SQLite file work for several processes:
 * - libsql's local client opens a fresh SQLite connection for every transaction, with SQLite's default
 *   busy timeout of 0, so a runner that begins a write while another holds the lock fails at once with
 *   SQLITE_BUSY — and five failed shard-lock refreshes in a row make a runner drop its shards. The client
 *   here sets `PRAGMA busy_timeout` on the connection a statement or transaction is about to use (the
 *   local client runs statements synchronously, so the pragma and the statement share a connection).
 * - The journal is switched to WAL once (it is a property of the file), so readers never block writers.
 * Integers come back as bigint: persisted cluster messages carry 64-bit snowflake ids, which a JS number
 * cannot hold (libsql's default would fail with a RangeError).
 */
export interface ClusterSqlOptions {
  /** Database URL: `postgres://…`, `file:/path/cluster.db`, or a libsql server's URL. */
  readonly url: string
  /** How long a statement waits for another process's write lock on a SQLite file (default 10 s). */
  readonly busyTimeoutMs?: number
}

/** The libsql client with `PRAGMA busy_timeout` issued before every statement and transaction. */
const withBusyTimeout = (sdk: Sdk, ms: number): Sdk => {
  const pragma = `PRAGMA busy_timeout = ${Math.max(0, Math.round(ms))}`
  // Not awaited: the local client executes synchronously inside execute(), on the connection that the
  // next call in this same tick uses (a transaction takes that connection over and a new one opens after).
  const prime = () => void sdk.execute(pragma).catch(() => undefined)
  return {
    get closed() {
      return sdk.closed
    },
    get protocol() {
      return sdk.protocol
    },
    // execute and transaction are overloaded; forwarding their arguments as they came keeps every form.
    execute: ((...args: unknown[]) => (prime(), (sdk.execute as (...a: unknown[]) => unknown)(...args))) as Sdk["execute"],
    batch: (stmts, mode) => (prime(), sdk.batch(stmts, mode)),
    migrate: (stmts) => (prime(), sdk.migrate(stmts)),
    transaction: ((...args: unknown[]) => (prime(), (sdk.transaction as (...a: unknown[]) => unknown)(...args))) as Sdk["transaction"],
    executeMultiple: (sql) => (prime(), sdk.executeMultiple(sql)),
    sync: () => sdk.sync(),
    close: () => sdk.close()
  }
}

/**
 * Switches a SQLite file to WAL unless it is already. Changing the journal mode needs the file to
 * itself, and SQLite answers "database is locked" at once (no busy wait) while another process writes,
 * so it is retried for a while.
 */
const useWal = (sdk: Sdk, url: string) => {
  const query = (sql: string) =>
    Effect.tryPromise({
      try: () => sdk.execute(sql),
      catch: (e) => new Error(`cluster database ${url}: ${sql}: ${e instanceof Error ? e.message : String(e)}`)
    }).pipe(Effect.map((r) => String(r.rows[0]?.[0] ?? "").toLowerCase()))
  return query("PRAGMA journal_mode").pipe(
    Effect.flatMap((mode) => (mode === "wal" ? Effect.succeed(mode) : query("PRAGMA journal_mode = WAL"))),
    Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("10 seconds"))),
    Effect.orDie
  )
}

export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//i.test(url)

/** An @effect/sql SqlClient for the cluster's storage at `options.url` (PostgreSQL or libsql). */
export const layerClusterSql = (options: ClusterSqlOptions): Layer.Layer<SqlClient.SqlClient> =>
  isPostgresUrl(options.url)
    ? PgClient.layer({ url: Redacted.make(options.url), applicationName: "deepspark-cluster" }).pipe(
        Layer.mapError((e) => new Error(`cluster database ${redactUrl(options.url)}: ${e.message}`)),
        Layer.orDie
      )
    : layerLibsql(options)

/** The URL without its password, for messages. */
const redactUrl = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@")

const layerLibsql = (options: ClusterSqlOptions): Layer.Layer<SqlClient.SqlClient | LibsqlClient.LibsqlClient> =>
  Layer.scopedContext(
    Effect.gen(function* () {
      let sdk = yield* Effect.acquireRelease(
        Effect.try({
          try: () => createClient({ url: options.url, intMode: "bigint" }),
          catch: (e) => new Error(`cluster database ${options.url}: ${e instanceof Error ? e.message : String(e)}`)
        }).pipe(Effect.orDie),
        (c) => Effect.sync(() => c.close())
      )
      if (sdk.protocol === "file") {
        sdk = withBusyTimeout(sdk, options.busyTimeoutMs ?? 10_000)
        yield* useWal(sdk, options.url)
      }
      const client = yield* LibsqlClient.make({ liveClient: sdk })
      return Context.make(LibsqlClient.LibsqlClient, client).pipe(Context.add(SqlClient.SqlClient, client))
    })
  ).pipe(Layer.provide(Reactivity.layer))
