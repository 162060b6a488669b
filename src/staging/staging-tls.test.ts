import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { createLmdb, encodeDatum, type StagingRef } from "@deepspark/data"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { testCertificates } from "../../test/support/test-certificates.js"
import { stageOverTcp } from "./client.js"
import { serveStagingTcp } from "./server.js"

/**
 * The staging server over TLS (the center's `--tls-cert/--tls-key/--tls-ca` serve `--serve-data` too),
 * with certificates made at test time: a worker that trusts the server's CA stages its partition; a
 * plain-TCP worker, one that trusts another CA, and (with a client CA on the server) one without a
 * certificate get nothing.
 */
const root = mkdtempSync(path.join(os.tmpdir(), "deepspark-staging-tls-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const certs = testCertificates(root)
const ref: StagingRef = { source: "train_lmdb", backend: "lmdb", index: 1, count: 2, mode: "range" }

beforeAll(async () => {
  certs.ca("ca")
  certs.ca("other-ca")
  certs.cert("ca", "server", "IP:127.0.0.1")
  certs.cert("ca", "worker", "DNS:worker")
  const db = createLmdb(path.join(root, "train_lmdb"))
  for (let i = 0; i < 40; i++) db.putSync(String(i).padStart(8, "0"), encodeDatum({ channels: 1, height: 2, width: 2, data: new Uint8Array(4).fill(i), label: i % 10 }))
  await db.close()
}, 30_000)

const server = { cert: certs.file("server.pem"), key: certs.file("server.key") }

/** Serves the folder over TLS with `serverTls` and stages partition 1/2 with the client's `tls` (undefined: plain TCP). */
const stage = (serverTls: typeof server & { ca?: string }, tls: { ca: string; cert?: string; key?: string } | undefined, name: string) =>
  Effect.gen(function* () {
    const { port } = yield* serveStagingTcp({ host: "127.0.0.1", port: 0, token: "tok", root, tls: serverTls })
    return yield* stageOverTcp({
      host: "127.0.0.1",
      port,
      token: "tok",
      worker: name,
      ref,
      target: path.join(root, `${name}_lmdb`),
      callTimeoutMs: 2_000,
      ...(tls !== undefined ? { tls } : {})
    })
  }).pipe(Effect.scoped, Effect.either, Effect.runPromise)

describe("the staging server over TLS", () => {
  it("a worker trusting the server's CA stages its partition; plain TCP and another CA get nothing", async () => {
    const ok = await stage(server, { ca: certs.file("ca.pem") }, "trusting")
    expect(ok._tag, JSON.stringify(ok)).toBe("Right")
    if (ok._tag === "Right") expect(ok.right.manifest.count).toBe(20)
    expect((await stage(server, undefined, "plain"))._tag).toBe("Left")
    const other = await stage(server, { ca: certs.file("other-ca.pem") }, "other")
    expect(other._tag).toBe("Left")
  }, 30_000)

  it("with a client CA on the server, only a worker with a certificate that CA signed stages", async () => {
    const mutual = { ...server, ca: certs.file("ca.pem") }
    expect((await stage(mutual, { ca: certs.file("ca.pem") }, "anonymous"))._tag).toBe("Left")
    const ok = await stage(mutual, { ca: certs.file("ca.pem"), cert: certs.file("worker.pem"), key: certs.file("worker.key") }, "certified")
    expect(ok._tag, JSON.stringify(ok)).toBe("Right")
  }, 30_000)
})
