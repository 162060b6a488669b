import { SqlClient } from "@effect/sql"
import { createClient } from "@libsql/client"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import * as fs from "node:fs"
import * as os from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { layerClusterSql } from "./cluster-sql.js"

/**
 * The cluster's SQL storage on one SQLite file shared by several clients (as by several runner
 * processes): a writer waits for another's write lock instead of failing with SQLITE_BUSY, the file is
 * in WAL mode, and 64-bit integers (the cluster's snowflake ids) survive the round trip.
 */
const require = createRequire(import.meta.url)
const tempDb = () => `file:${path.join(fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-cluster-sql-")), "c.db")}`

const withSql = <A, E>(url: string, f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) =>
  Effect.flatMap(SqlClient.SqlClient, f).pipe(Effect.provide(layerClusterSql({ url, busyTimeoutMs: 5_000 })))

describe("layerClusterSql (libsql on a SQLite file)", () => {
  it("a second client's write waits for the first one's transaction instead of failing with SQLITE_BUSY", async () => {
    const url = tempDb()
    await Effect.runPromise(withSql(url, (sql) => sql`CREATE TABLE t (x INTEGER)`))
    // Without a busy timeout, libsql's local client fails at once while another connection writes.
    const raw = [createClient({ url }), createClient({ url })] as const
    const holding = await raw[0].transaction("write")
    await holding.execute("INSERT INTO t VALUES (0)")
    await expect(raw[1].execute("INSERT INTO t VALUES (-1)")).rejects.toThrow(/SQLITE_BUSY|locked/)
    await holding.commit()
    raw.forEach((c) => c.close())

    // Another process holds the write lock for 600 ms; this process's write waits for it, then succeeds.
    // (A process, not a second client here: the local client's busy wait blocks its whole thread.)
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `const { createClient } = require(${JSON.stringify(require.resolve("@libsql/client"))})
         const c = createClient({ url: ${JSON.stringify(url)} })
         c.transaction("write").then(async (tx) => {
           await tx.execute("INSERT INTO t VALUES (1)")
           console.log("locked")
           setTimeout(async () => { await tx.commit(); console.log("committed"); c.close() }, 600)
         })`
      ],
      { stdio: ["ignore", "pipe", "inherit"] }
    )
    let holderOut = ""
    holder.stdout!.on("data", (b: Buffer) => (holderOut += b.toString()))
    await new Promise<void>((resolve) => {
      const check = () => (holderOut.includes("locked") ? resolve() : setTimeout(check, 10))
      check()
    })
    const t0 = Date.now()
    const rows = await Effect.runPromise(
      withSql(url, (sql) =>
        sql.withTransaction(sql`INSERT INTO t VALUES (2)`).pipe(Effect.zipRight(sql<{ x: bigint }>`SELECT x FROM t ORDER BY x`))
      )
    )
    const waited = Date.now() - t0
    await new Promise((resolve) => holder.on("exit", resolve))
    expect(holderOut).toMatch(/locked\s+committed/)
    expect(waited).toBeGreaterThan(200)
    expect(rows.map((r) => Number(r.x))).toEqual([0, 1, 2])
  }, 30_000)

  it("switches the file to WAL and returns 64-bit integers exactly", async () => {
    const url = tempDb()
    const [mode, big] = await Effect.runPromise(
      withSql(url, (sql) =>
        Effect.all([sql<{ journal_mode: string }>`PRAGMA journal_mode`, sql<{ v: bigint }>`SELECT 9007199254740993 AS v`])
      )
    )
    expect(mode[0]!.journal_mode).toBe("wal")
    expect(big[0]!.v).toBe(9007199254740993n)
  }, 30_000)
})
