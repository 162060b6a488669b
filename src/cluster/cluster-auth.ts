import { createHmac, timingSafeEqual } from "node:crypto"
import * as Headers from "@effect/platform/Headers"
import * as Entity from "@effect/cluster/Entity"
import type * as Rpc from "@effect/rpc/Rpc"
import * as RpcMiddleware from "@effect/rpc/RpcMiddleware"
import { Effect, Layer, Schema } from "effect"
import { boundedString, MAX_MESSAGE_LENGTH } from "../transport/bounded-string.js"

/**
 * Authentication of cluster messages: every `Trainer` entity message carries, in a header, an HMAC-SHA256
 * of its tag and payload under the cluster secret (`--cluster-secret`, DEEPSPARK_CLUSTER_SECRET). The
 * sender's side adds it as @effect/rpc client middleware (in the Sharding that sends entity messages);
 * the runner checks it as server middleware before the entity's handler runs, so a peer without the
 * secret can neither start a trainer nor name a path or an address a runner acts on.
 *
 * The secret itself never travels. What this does not do: encrypt (a captured `Train`, which holds the
 * run's token, can be read and replayed on the same cluster), or protect the cluster's other traffic
 * between runners (shard assignment, pings), which the cluster's storage and a trusted network cover.
 */
export class ClusterAuthFailed extends Schema.TaggedError<ClusterAuthFailed>()("ClusterAuthFailed", {
  message: boundedString(MAX_MESSAGE_LENGTH)
}) {}

export class ClusterAuth extends RpcMiddleware.Tag<ClusterAuth>()("deepspark/ClusterAuth", {
  failure: ClusterAuthFailed,
  requiredForClient: true
}) {}

export const CLUSTER_AUTH_HEADER = "x-deepspark-cluster-auth"

/** JSON with object keys sorted: the payload as the sender built it and as the runner decoded it agree. */
export const canonicalJson = (v: unknown): string => {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null"
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`
}

export const clusterSignature = (secret: string, tag: string, payload: unknown): string =>
  createHmac("sha256", secret).update(`deepspark-cluster/1\n${tag}\n${canonicalJson(payload)}`).digest("base64url")

/** The sender's side: signs every message of an RPC that uses ClusterAuth. */
export const layerClusterAuthClient = (secret: string) =>
  RpcMiddleware.layerClient(ClusterAuth, ({ request, rpc }) =>
    Effect.succeed({ ...request, headers: Headers.set(request.headers, CLUSTER_AUTH_HEADER, clusterSignature(secret, rpc._tag, request.payload)) })
  )

/** The runner's side: a message without a valid signature fails before its handler runs. */
export const layerClusterAuthServer = (secret: string) =>
  Layer.succeed(
    ClusterAuth,
    ClusterAuth.of(({ headers, payload, rpc }) => {
      // An entity's server sees the cluster's Request envelope; the sender signed the message's payload.
      const body = payload instanceof Entity.Request ? (payload as Entity.Request<Rpc.Any>).payload : payload
      const given = Buffer.from(headers[CLUSTER_AUTH_HEADER] ?? "", "utf8")
      const expected = Buffer.from(clusterSignature(secret, rpc._tag, body), "utf8")
      return given.length === expected.length && timingSafeEqual(given, expected)
        ? Effect.void
        : Effect.fail(
            new ClusterAuthFailed({
              message: `${rpc._tag}: ${given.length === 0 ? "no cluster signature" : "wrong cluster signature"} (the sender's --cluster-secret differs from this runner's)`
            })
          )
    })
  )
