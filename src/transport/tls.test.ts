import { execFileSync } from "node:child_process"
import fs from "node:fs"
import net from "node:net"
import os from "node:os"
import path from "node:path"
import { Effect, Either } from "effect"
import { Packr } from "msgpackr"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { layerCenter } from "../center/center-service.js"
import { makeEasgdSettings } from "../easgd/settings.js"
import { packFrame } from "./framing.js"
import { layerCenterClientProtocolTcp, makeCenterClient } from "./tcp.js"
import { serveCenterTcp } from "../center/serve-tcp-workers.js"
import type { TlsFiles } from "./tls-options.js"

/**
 * The center over TLS (`--tls-cert/--tls-key/--tls-ca`), with certificates made here by the openssl
 * command: a worker that trusts the center's CA registers and exchanges; plain TCP, a worker trusting
 * another CA, and (with mutual TLS) a worker without a certificate get nowhere.
 */
const PARAMS = 100_000
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-tls-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
const f = (name: string) => path.join(dir, name)

const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" })
/** A CA, and a certificate it signs for `cn` with these subject names. */
const makeCa = (name: string) =>
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "1", "-subj", `/CN=${name}`)
const makeCert = (ca: string, name: string, san: string) => {
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`)
  fs.writeFileSync(f(`${name}.ext`), `subjectAltName=${san}\n`)
  openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "1", "-extfile", `${name}.ext`)
}

beforeAll(() => {
  makeCa("ca")
  makeCa("other-ca")
  makeCert("ca", "center", "IP:127.0.0.1,DNS:localhost")
  makeCert("ca", "worker", "DNS:worker")
}, 30_000)

const withCenter = <A, E>(tls: TlsFiles, body: (port: number) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const { port } = yield* serveCenterTcp({ host: "127.0.0.1", port: 0, tls })
    return yield* body(port)
  }).pipe(
    Effect.scoped,
    Effect.provide(layerCenter({ token: "tok", settings: makeEasgdSettings({ period: 5, moving_rate: 0.3 }), workers: 1, initial: new Float32Array(PARAMS) }))
  )

/** Registers and makes one exchange over TLS with these files; Left when it cannot within 5 s. */
const trainOnce = (port: number, tls: TlsFiles, workerId: string) =>
  Effect.gen(function* () {
    const c = yield* makeCenterClient
    const r = yield* c.Register({ workerId, token: "tok", paramCount: PARAMS, partition: { index: 0, count: 1 } })
    const x = yield* c.Exchange({ workerId, incarnation: r.incarnation, token: "tok", seq: 1, clock: 5, params: new Float32Array(PARAMS).fill(1), lossSum: 1, iterations: 5, cursor: null })
    return x.center.length
  }).pipe(Effect.scoped, Effect.provide(layerCenterClientProtocolTcp({ host: "127.0.0.1", port, tls })), Effect.timeout("5 seconds"), Effect.either)

const server: TlsFiles = { cert: f("center.pem"), key: f("center.key") }

describe("the center over TLS", () => {
  it("a worker trusting the center's CA trains; plain TCP and a worker trusting another CA do not", async () => {
    const result = await Effect.runPromise(
      withCenter(server, (port) =>
        Effect.gen(function* () {
          const trusted = yield* trainOnce(port, { ca: f("ca.pem") }, "w0")
          const otherCa = yield* trainOnce(port, { ca: f("other-ca.pem") }, "w1")
          // Plain TCP: a Register frame is no TLS handshake; the center never answers it.
          const plain = yield* Effect.promise(
            () =>
              new Promise<string>((resolve) => {
                const socket = net.connect({ host: "127.0.0.1", port }, () =>
                  socket.write(packFrame(new Packr({ useRecords: false, moreTypes: false }), { _tag: "Request", id: "1", tag: "Register", headers: [], payload: { workerId: "p", token: "tok", paramCount: PARAMS, partition: { index: 0, count: 1 } } }))
                )
                socket.on("data", (d: Buffer) => d.length > 8 && d.readUInt32BE(0) === d.length - 4 && resolve("answered"))
                socket.on("error", () => resolve("refused"))
                socket.on("close", () => resolve("refused"))
              })
          )
          return { trusted, otherCa, plain }
        })
      )
    )
    expect(result.trusted).toEqual(Either.right(PARAMS))
    expect(Either.isLeft(result.otherCa)).toBe(true)
    expect(result.plain).toBe("refused")
  }, 30_000)

  it("with --tls-ca on the center (mutual TLS): only a worker with a certificate the CA signed gets in", async () => {
    const result = await Effect.runPromise(
      withCenter({ ...server, ca: f("ca.pem") }, (port) =>
        Effect.gen(function* () {
          const withCert = yield* trainOnce(port, { ca: f("ca.pem"), cert: f("worker.pem"), key: f("worker.key") }, "w0")
          const without = yield* trainOnce(port, { ca: f("ca.pem") }, "w1")
          return { withCert, without }
        })
      )
    )
    expect(result.withCert).toEqual(Either.right(PARAMS))
    expect(Either.isLeft(result.without)).toBe(true)
  }, 30_000)
})
