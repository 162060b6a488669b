import { readFileSync } from "node:fs"
import { isIP } from "node:net"
import type tls from "node:tls"

/**
 * TLS for the center's TCP transport (`--tls-cert/--tls-key/--tls-ca`), as PEM file paths so that they
 * can be handed to a worker's trainer process as they are.
 * - Server (the center): `cert` + `key` (required); with `ca`, every client must present a certificate
 *   signed by it (mutual TLS).
 * - Client (a worker): `ca` verifies the center's certificate (its name or IP must match the address
 *   connected to); `cert` + `key` are its own certificate when the center asks for one.
 */
export interface TlsFiles {
  readonly cert?: string
  readonly key?: string
  readonly ca?: string
}

const read = (file: string | undefined, what: string): Buffer | undefined => {
  if (file === undefined) return undefined
  try {
    return readFileSync(file)
  } catch (e) {
    throw new Error(`TLS ${what} ${file}: ${(e as Error).message}`)
  }
}

export const tlsServerOptions = (files: TlsFiles): tls.TlsOptions => {
  if (files.cert === undefined || files.key === undefined) throw new Error("TLS: the server needs --tls-cert and --tls-key")
  const ca = read(files.ca, "CA")
  return {
    cert: read(files.cert, "certificate")!,
    key: read(files.key, "key")!,
    ...(ca !== undefined ? { ca, requestCert: true, rejectUnauthorized: true } : {})
  }
}

export const tlsClientOptions = (files: TlsFiles, host: string): tls.ConnectionOptions => {
  const ca = read(files.ca, "CA")
  const cert = read(files.cert, "certificate")
  const key = read(files.key, "key")
  return {
    // A host name is checked against the certificate's names; an IP address against its IP entries.
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
    rejectUnauthorized: true
  }
}
