import { spawn, type ChildProcess } from "node:child_process"
import * as net from "node:net"
import path from "node:path"
import { fileURLToPath } from "node:url"

/**
 * Test support: `deepspark runner` processes spawned as an operator starts them
 * (`src/cli/remote-main.ts runner …`), with their output collected line by line.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

export interface RunnerProcess {
  readonly child: ChildProcess
  readonly port: number
  readonly out: () => string
  /** Resolves when a line matching `re` has appeared (or rejects after `ms`). */
  readonly waitFor: (re: RegExp, ms: number) => Promise<void>
  readonly exit: Promise<number | null>
}

/** A TCP port that was free a moment ago. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** The cluster secret the test runners are started with (the drivers in the tests sign with it). */
export const TEST_CLUSTER_SECRET = "test-cluster-secret"

/** A runner with TEST_CLUSTER_SECRET (given in its environment, as an operator may) unless `extra` names one. */
export const spawnRunner = (clusterDb: string, port: number, extra: ReadonlyArray<string> = []): RunnerProcess => {
  const child = spawn(
    process.execPath,
    ["bin/run-ts.mjs", "src/cli/remote-main.ts", "runner", "--cluster-db", clusterDb, "--listen", `127.0.0.1:${port}`, ...extra],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DEEPSPARK_CLUSTER_SECRET: TEST_CLUSTER_SECRET } }
  )
  let out = ""
  const waiters: Array<{ re: RegExp; done: () => void }> = []
  const take = (b: Buffer) => {
    out += b.toString()
    for (const w of waiters.splice(0)) (w.re.test(out) ? w.done : () => waiters.push(w))()
  }
  child.stdout!.on("data", take)
  child.stderr!.on("data", take)
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return {
    child,
    port,
    out: () => out,
    exit,
    waitFor: (re, ms) =>
      new Promise((resolve, reject) => {
        if (re.test(out)) return resolve()
        const fail = (why: string) => reject(new Error(`runner on ${port}: no ${re} (${why}); output:\n${out}`))
        const timer = setTimeout(() => fail(`within ${ms} ms`), ms)
        void exit.then((code) => (clearTimeout(timer), fail(`it exited with code ${code}`)))
        waiters.push({ re, done: () => (clearTimeout(timer), resolve()) })
      })
  }
}

/** Kills the runners a test started (by their pids) that are still alive. */
export const killAll = (runners: ReadonlyArray<RunnerProcess>) => {
  for (const r of runners) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL")
}
