import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import path from "node:path"
import type { Host } from "./network.js"

/**
 * Test support: a PostgreSQL cluster of the test's own (initdb in a temporary folder, pg_ctl) serving
 * on one namespace host's address — the cluster database the runners and drivers of the multi-host
 * tests share. PostgreSQL refuses to run as root, so the server runs as the `postgres` user Debian's
 * package creates. Authentication is `trust` for the test's private subnet: nothing outside the
 * namespaces can reach it.
 */

/** The folder of initdb and pg_ctl (Debian: /usr/lib/postgresql/<major>/bin), or undefined. */
export const postgresBinaries = (): string | undefined => {
  const candidates: string[] = []
  try {
    for (const v of fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a))) candidates.push(`/usr/lib/postgresql/${v}/bin`)
  } catch {
    // not Debian's layout
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) if (dir) candidates.push(dir)
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, "initdb")) && fs.existsSync(path.join(dir, "pg_ctl")))
  if (found === undefined) return undefined
  try {
    execFileSync("id", ["-u", "postgres"], { stdio: "pipe" })
  } catch {
    return undefined
  }
  return found
}

export interface PostgresServer {
  /** postgres://postgres@IP:5432/postgres */
  readonly url: string
  readonly stop: () => void
}

export const startPostgres = (host: Host): PostgresServer => {
  const bin = postgresBinaries()
  if (bin === undefined) throw new Error("no PostgreSQL server binaries")
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-pg-"))
  const data = path.join(dir, "data")
  execFileSync("chown", ["postgres:", dir])
  const asPostgres = (args: string[]) => execFileSync("runuser", ["-u", "postgres", "--", ...args], { stdio: "pipe", cwd: dir }).toString()
  asPostgres([path.join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
  fs.appendFileSync(path.join(data, "pg_hba.conf"), `host all all ${host.ip.replace(/\.\d+$/, ".0")}/24 trust\n`)
  // Durability is not what these tests are about; the socket folder is the test's own.
  const options = `-c listen_addresses=${host.ip} -p 5432 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`
  host.exec("runuser", ["-u", "postgres", "--", path.join(bin, "pg_ctl"), "-D", data, "-l", path.join(dir, "server.log"), "-w", "-t", "60", "-o", options, "start"])
  return {
    url: `postgres://postgres@${host.ip}:5432/postgres`,
    stop: () => {
      try {
        asPostgres([path.join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"])
      } catch {
        // already stopped (its namespace may be gone)
      }
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
