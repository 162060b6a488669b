import type { OptionSpec, ParsedOptions } from "./argv.js"
import { CliUsageError } from "./command.js"
import type { TlsFiles } from "../transport/tls-options.js"

/** `--tls-cert/--tls-key/--tls-ca` of `deepspark center` and `deepspark worker` (see docs/distributed.md). */
export const tlsOptions = (side: "server" | "client"): ReadonlyArray<OptionSpec> => [
  { name: "tls-cert", type: "string", value: "PEM", description: side === "server" ? "serve TLS with this certificate (with --tls-key)" : "this worker's certificate, when the center requires one" },
  { name: "tls-key", type: "string", value: "PEM", description: "the certificate's private key" },
  {
    name: "tls-ca",
    type: "string",
    value: "PEM",
    description: side === "server" ? "require workers to present a certificate signed by this CA" : "connect over TLS, verifying the center's certificate against this CA"
  }
]

/** The TLS files the flags name, or undefined (plain TCP). */
export const tlsFilesFrom = (p: ParsedOptions, side: "server" | "client"): TlsFiles | undefined => {
  const cert = p.string("tls-cert")
  const key = p.string("tls-key")
  const ca = p.string("tls-ca")
  if (cert === undefined && key === undefined && ca === undefined) return undefined
  if ((cert === undefined) !== (key === undefined)) throw new CliUsageError("--tls-cert and --tls-key go together")
  if (side === "server" && cert === undefined) throw new CliUsageError("--tls-ca needs --tls-cert and --tls-key (the center's own certificate)")
  if (side === "client" && ca === undefined) throw new CliUsageError("--tls-ca (the CA that signed the center's certificate) is required to connect over TLS")
  return { ...(cert !== undefined ? { cert } : {}), ...(key !== undefined ? { key } : {}), ...(ca !== undefined ? { ca } : {}) }
}

/** `--tls-cert/--tls-key/--tls-ca` of `deepspark runner` and `train --cluster-db`: the cluster's mutual TLS. */
export const clusterTlsOptions: ReadonlyArray<OptionSpec> = [
  { name: "tls-cert", type: "string", value: "PEM", description: "the cluster over mutual TLS: this member's certificate (with --tls-key and --tls-ca)" },
  { name: "tls-key", type: "string", value: "PEM", description: "the certificate's private key" },
  { name: "tls-ca", type: "string", value: "PEM", description: "the cluster's CA: peers must present a certificate it signed" }
]

/** The cluster's TLS files: all three or none (every member both serves and connects). */
export const clusterTlsFrom = (cert: string | undefined, key: string | undefined, ca: string | undefined): TlsFiles | undefined => {
  if (cert === undefined && key === undefined && ca === undefined) return undefined
  if (cert === undefined || key === undefined || ca === undefined)
    throw new CliUsageError("a TLS cluster needs all of --tls-cert, --tls-key and --tls-ca (every member serves with its certificate and checks its peers' against the CA)")
  return { cert, key, ca }
}
