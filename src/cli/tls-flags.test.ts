import { describe, expect, it } from "vitest"
import { parseOptions } from "./argv.js"
import { tlsFilesFrom, tlsOptions } from "./tls-flags.js"

describe("--tls-cert / --tls-key / --tls-ca", () => {
  const files = (side: "server" | "client", argv: string[]) => tlsFilesFrom(parseOptions(argv, tlsOptions(side)), side)
  it("plain TCP without them; the center needs a certificate and key, a worker the CA", () => {
    expect(files("server", [])).toBeUndefined()
    expect(files("server", ["--tls-cert", "c.pem", "--tls-key", "c.key"])).toEqual({ cert: "c.pem", key: "c.key" })
    expect(files("server", ["--tls-cert", "c.pem", "--tls-key", "c.key", "--tls-ca", "ca.pem"])).toEqual({ cert: "c.pem", key: "c.key", ca: "ca.pem" })
    expect(() => files("server", ["--tls-cert", "c.pem"])).toThrow(/--tls-cert and --tls-key go together/)
    expect(() => files("server", ["--tls-ca", "ca.pem"])).toThrow(/--tls-ca needs --tls-cert and --tls-key/)
    expect(files("client", ["--tls-ca", "ca.pem"])).toEqual({ ca: "ca.pem" })
    expect(() => files("client", ["--tls-cert", "w.pem", "--tls-key", "w.key"])).toThrow(/--tls-ca .* is required to connect over TLS/)
  })
})
