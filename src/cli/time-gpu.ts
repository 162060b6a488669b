/**
 * `deepspark time` on the GPU: the same Caffe lines as the host timing, measured on the device-resident
 * net. Each layer's kernels are submitted alone and waited for (as Caffe's per-layer GPU timers), so the
 * forward and backward times are the sums of the layers' times.
 */
import { formatG, ResidentNet, type GlogLogger, type GpuContext, type Net } from "@deepspark/engine"

export const timeOnDevice = async (net: Net, device: GpuContext, iterations: number, log: GlogLogger): Promise<void> => {
  const resident = new ResidentNet(device, net)
  log.info("Performing Forward")
  resident.recordForward()
  log.info(`Initial loss: ${formatG(await resident.readLoss())}`)
  log.info("Performing Backward")
  resident.recordBackward()
  await device.finish()
  log.info("*** Benchmark begins ***")
  log.info(`Testing for ${iterations} iterations.`)
  const forwardPerLayer = new Float64Array(net.layers.length)
  const backwardPerLayer = new Float64Array(net.layers.length)
  let forwardTime = 0
  let backwardTime = 0
  const totalStart = performance.now()
  for (let j = 0; j < iterations; j++) {
    const layers = await resident.timeLayers()
    let forward = 0
    let backward = 0
    layers.forEach((l, i) => {
      forwardPerLayer[i] += l.forwardMs
      backwardPerLayer[i] += l.backwardMs
      forward += l.forwardMs
      backward += l.backwardMs
    })
    forwardTime += forward
    backwardTime += backward
    log.info(`Iteration: ${j + 1} forward-backward time: ${formatG(forward + backward)} ms.`)
  }
  const total = performance.now() - totalStart
  log.info("Average time per layer: ")
  net.layers.forEach((_, i) => {
    const name = net.layerNames[i]!.padStart(10)
    log.info(`${name}\tforward: ${formatG(forwardPerLayer[i]! / iterations)} ms.`)
    log.info(`${name}\tbackward: ${formatG(backwardPerLayer[i]! / iterations)} ms.`)
  })
  log.info(`Average Forward pass: ${formatG(forwardTime / iterations)} ms.`)
  log.info(`Average Backward pass: ${formatG(backwardTime / iterations)} ms.`)
  log.info(`Average Forward-Backward: ${formatG(total / iterations)} ms.`)
  log.info(`Total Time: ${formatG(total)} ms.`)
  log.info("*** Benchmark ends ***")
}
