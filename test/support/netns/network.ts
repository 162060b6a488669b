import { execFileSync, spawn, type SpawnOptions } from "node:child_process"
import * as fs from "node:fs"
import { captureOutput, type CapturedProcess } from "../captured-process.js"
import { postgresBinaries } from "./postgres-host.js"

/**
 * Test support: separate "hosts" on one Linux machine, each a network namespace with its own address,
 * joined by veth links to a bridge that lives in a namespace of its own (the switch), so nothing of the
 * machine's own network is touched. A host's link can be cut (`ip link set … down` on the switch's end:
 * its packets are dropped, its TCP connections stall as on a pulled cable) and restored. Processes run
 * on a host through `ip netns exec`, which execs the command itself: the child's pid is the command's,
 * so `kill -9` reaches it. Only the network is separate: every host sees the same files.
 */

/** Why the multi-host tests cannot run here (one line), or undefined when they can. */
export const multiHostSkipReason = (): string | undefined => {
  if (process.platform !== "linux") return "network namespaces need Linux"
  if (process.getuid?.() !== 0) return "not root (creating network namespaces needs root)"
  try {
    execFileSync("ip", ["-V"], { stdio: "pipe" })
  } catch {
    return "no `ip` command (Debian: apt-get install iproute2)"
  }
  const probe = `dsprobe-${process.pid}`
  try {
    execFileSync("ip", ["netns", "add", probe], { stdio: "pipe" })
    execFileSync("ip", ["netns", "del", probe], { stdio: "pipe" })
  } catch (e) {
    return `\`ip netns add\` fails here: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`
  }
  if (postgresBinaries() === undefined) return "no PostgreSQL server (initdb, pg_ctl; Debian: apt-get install postgresql)"
  return undefined
}

export interface HostProcess extends CapturedProcess {
  readonly host: string
  /** Resolves when the output so far matches `re`; rejects after `ms` or when the process exits first. */
  readonly waitFor: (re: RegExp, ms: number) => Promise<RegExpExecArray>
  readonly alive: () => boolean
}

export interface Host {
  readonly name: string
  /** The namespace's name, for `ip netns exec`. */
  readonly ns: string
  readonly ip: string
  /** Runs `command args` on this host; its output is collected. */
  readonly spawn: (command: string, args: ReadonlyArray<string>, options?: SpawnOptions) => HostProcess
  /** Runs a command on this host to completion (throws on failure); its stdout. */
  readonly exec: (command: string, args: ReadonlyArray<string>) => string
}

export interface Network {
  readonly hosts: Readonly<Record<string, Host>>
  /** Pulls the host's cable: its link goes down on the switch's side. */
  readonly cut: (host: string) => void
  readonly restore: (host: string) => void
  /** Kills what the hosts still run (SIGKILL) and removes the namespaces. */
  readonly destroy: () => void
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" }).toString()

const PREFIX = "dsnet"

/** Removes namespaces a killed test run left behind (named after a process that no longer exists). */
const removeStale = () => {
  let names: string[] = []
  try {
    names = fs.readdirSync("/run/netns")
  } catch {
    return
  }
  for (const name of names) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)
    if (!m) continue
    const pid = Number(m[1])
    let alive = true
    try {
      process.kill(pid, 0)
    } catch {
      alive = false
    }
    if (!alive) {
      try {
        ip("netns", "del", name)
      } catch {
        // already gone
      }
    }
  }
}

let networks = 0

/**
 * Creates one namespace per host name, addressed 10.S.0.2, 10.S.0.3, … in that order on one /24
 * (S from this process's id and a counter: separate runs never share a name or a subnet).
 */
export const createNetwork = (hostNames: ReadonlyArray<string>): Network => {
  removeStale()
  const id = `${PREFIX}${process.pid}-${networks++}`
  const subnet = `10.${100 + ((process.pid + networks) % 150)}.0`
  const switchNs = `${id}-sw`
  const created: string[] = []
  const processes: HostProcess[] = []
  const destroy = () => {
    for (const p of processes) if (p.alive()) p.child.kill("SIGKILL")
    for (const ns of created.splice(0).reverse()) {
      try {
        // Processes of the namespace that the tests did not start themselves (postgres's children).
        const pids = ip("netns", "pids", ns).split(/\s+/).filter(Boolean)
        for (const pid of pids) {
          try {
            process.kill(Number(pid), "SIGKILL")
          } catch {
            // gone meanwhile
          }
        }
        ip("netns", "del", ns)
      } catch {
        // best effort: a later run removes what is left (removeStale)
      }
    }
  }
  try {
    ip("netns", "add", switchNs)
    created.push(switchNs)
    ip("-n", switchNs, "link", "add", "br0", "type", "bridge")
    ip("-n", switchNs, "link", "set", "br0", "up")
    const hosts: Record<string, Host> = {}
    hostNames.forEach((name, i) => {
      const ns = `${id}-${name}`
      const port = `p${i}`
      const address = `${subnet}.${i + 2}`
      ip("netns", "add", ns)
      created.push(ns)
      ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", port, "netns", switchNs)
      ip("-n", switchNs, "link", "set", port, "master", "br0")
      ip("-n", switchNs, "link", "set", port, "up")
      ip("-n", ns, "addr", "add", `${address}/24`, "dev", "eth0")
      ip("-n", ns, "link", "set", "eth0", "up")
      ip("-n", ns, "link", "set", "lo", "up")
      hosts[name] = {
        name,
        ns,
        ip: address,
        exec: (command, args) => execFileSync("ip", ["netns", "exec", ns, command, ...args], { stdio: "pipe" }).toString(),
        spawn: (command, args, options = {}) => {
          const child = spawn("ip", ["netns", "exec", ns, command, ...args], { ...options, stdio: ["ignore", "pipe", "pipe"] })
          const captured = captureOutput(child)
          const alive = () => child.exitCode === null && child.signalCode === null
          const p: HostProcess = {
            ...captured,
            host: name,
            alive,
            waitFor: (re, ms) =>
              new Promise((resolve, reject) => {
                const started = Date.now()
                const poll = () => {
                  const m = re.exec(captured.out())
                  if (m) return resolve(m)
                  if (!alive()) return reject(new Error(`${name}: ${command} exited (${child.exitCode ?? child.signalCode}) before ${re}; output:\n${captured.out()}`))
                  if (Date.now() - started > ms) return reject(new Error(`${name}: no ${re} within ${ms} ms; output:\n${captured.out()}`))
                  setTimeout(poll, 100)
                }
                poll()
              })
          }
          processes.push(p)
          return p
        }
      }
    })
    process.once("exit", destroy)
    const linkOf = (host: string) => {
      const i = hostNames.indexOf(host)
      if (i < 0) throw new Error(`no host ${host}`)
      return `p${i}`
    }
    return {
      hosts,
      cut: (host) => void ip("-n", switchNs, "link", "set", linkOf(host), "down"),
      restore: (host) => void ip("-n", switchNs, "link", "set", linkOf(host), "up"),
      destroy
    }
  } catch (e) {
    destroy()
    throw e
  }
}
