import { describe, expect, it } from "vitest"
import { parseOptions } from "./argv.js"
import { runnerCommand } from "./runner.js"
import { clusterPoolFrom, clusterTrainOptions } from "./train-cluster.js"

/** The cluster-mode flags: usage errors come back before anything joins a cluster. */
const run = async (argv: ReadonlyArray<string>) => {
  const err: string[] = []
  const code = await runnerCommand(argv, { stdout: () => {}, stderr: (t) => void err.push(t) })
  return { code, err: err.join("\n") }
}

describe("deepspark runner / train --cluster-db flags", () => {
  it("runner: --cluster-db and a cluster secret are required, the root must exist, addresses and numbers are checked", async () => {
    expect(await run([])).toMatchObject({ code: 2, err: expect.stringMatching(/--cluster-db URL .* is required[\s\S]*deepspark runner --cluster-db URL/) })
    expect(await run(["--cluster-db", "file:/tmp/x.db"])).toMatchObject({ code: 2, err: expect.stringMatching(/--cluster-secret S \(or DEEPSPARK_CLUSTER_SECRET\) is required/) })
    expect(await run(["--cluster-db", "file:/tmp/x.db", "--cluster-secret", "s", "--root", "/no/such/folder"])).toMatchObject({ code: 2, err: expect.stringMatching(/--root \/no\/such\/folder: no such folder/) })
    expect(await run(["--cluster-db", "file:/tmp/x.db", "--cluster-secret", "s", "--listen", "nowhere"])).toMatchObject({ code: 2, err: expect.stringMatching(/listen.*HOST:PORT.*nowhere/) })
    expect(await run(["--cluster-db", "file:/tmp/x.db", "--cluster-secret", "s", "--lock-expiration", "-3"])).toMatchObject({ code: 2, err: expect.stringMatching(/--lock-expiration .*> 0/) })
    expect(await run(["--cluster-db", "file:/tmp/x.db", "--bogus"])).toMatchObject({ code: 2, err: expect.stringMatching(/--bogus/) })
    expect(await run(["--cluster-db", "file:/tmp/x.db", "--cluster-secret", "s", "--tls-cert", "c.pem", "--tls-key", "k.pem"])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/a TLS cluster needs all of --tls-cert, --tls-key and --tls-ca/)
    })
  })

  it("train: cluster flags need --cluster-db, which needs a cluster secret; --stage-to needs --serve-data; --cluster-db picks the cluster pool", async () => {
    const opts = (argv: string[]) => parseOptions(argv, clusterTrainOptions).options
    const secret = ["--cluster-secret", "s"]
    await expect(clusterPoolFrom(opts(["--center-listen", "0.0.0.0:7077"]), () => {})).rejects.toThrow(/--center-listen only applies with --cluster-db/)
    await expect(clusterPoolFrom(opts(["--cluster-db", "file:/tmp/x.db"]), () => {})).rejects.toThrow(/--cluster-db needs the runners' secret/)
    await expect(clusterPoolFrom(opts(["--cluster-db", "file:/tmp/x.db", ...secret, "--stage-to", "d"]), () => {})).rejects.toThrow(/--stage-to DIR needs --serve-data/)
    await expect(clusterPoolFrom(opts(["--cluster-db", "file:/tmp/x.db", ...secret, "--center-listen", "7077"]), () => {})).rejects.toThrow(/--center-listen expects HOST:PORT/)
    await expect(clusterPoolFrom(opts(["--tls-ca", "ca.pem"]), () => {})).rejects.toThrow(/--tls-ca only applies with --cluster-db/)
    await expect(clusterPoolFrom(opts(["--cluster-db", "file:/tmp/x.db", ...secret, "--tls-ca", "ca.pem"]), () => {})).rejects.toThrow(/needs all of --tls-cert, --tls-key and --tls-ca/)
    expect(await clusterPoolFrom(opts([]), () => {})).toBeUndefined()
    expect(await clusterPoolFrom(opts(["--cluster-db", "file:/tmp/x.db", ...secret, "--center-listen", "0.0.0.0:7077", "--lock-expiration", "5"]), () => {})).toBeDefined()
  })
})
