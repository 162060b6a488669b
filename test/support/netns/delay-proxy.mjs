// Test support: a TCP proxy that stands for a slow, unreliable network path (this machine's kernel has
// no netem qdisc). Usage: node delay-proxy.mjs LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS DROP_EVERY_MS
// Every chunk is forwarded DELAY_MS later in each direction, in order; every DROP_EVERY_MS (0: never)
// all open connections are cut (both sides destroyed), as a flaky link or a NAT timeout does.
// Prints "listening" when ready and "dropped N connections" at each cut.
import net from "node:net"

const [listenHost, listenPort, targetHost, targetPort, delayArg, dropArg] = process.argv.slice(2)
const delayMs = Number(delayArg)
const dropEveryMs = Number(dropArg)
const open = new Set()

const forward = (from, to) => {
  from.on("data", (chunk) => {
    // Equal delays fire in the order they were set: the byte stream stays in order.
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk)
    }, delayMs)
  })
  from.on("end", () => setTimeout(() => to.end(), delayMs))
}

const server = net.createServer((client) => {
  const upstream = net.connect({ host: targetHost, port: Number(targetPort) })
  const pair = { client, upstream }
  open.add(pair)
  const close = () => {
    open.delete(pair)
    client.destroy()
    upstream.destroy()
  }
  client.on("error", close)
  upstream.on("error", close)
  client.on("close", close)
  upstream.on("close", close)
  forward(client, upstream)
  forward(upstream, client)
})
server.listen(Number(listenPort), listenHost, () => console.log("listening"))
if (dropEveryMs > 0)
  setInterval(() => {
    const n = open.size
    for (const { client, upstream } of [...open]) {
      client.destroy()
      upstream.destroy()
    }
    open.clear()
    console.log(`dropped ${n} connections`)
  }, dropEveryMs)
