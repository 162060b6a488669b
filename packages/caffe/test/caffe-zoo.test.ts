/**
 * The one place that reports whether Caffe's model zoo is there: the tests that read it are skipped
 * without it, and this file prints the single line that says so (and how to get it).
 */
import { describe, expect, it } from "vitest"
import { caffeZoo, caffeZooMissing, caffeZooRequested, zooMarker, zooPrototxts } from "./support/caffe-zoo.js"

describe("Caffe's model zoo", () => {
  if (caffeZoo === undefined) {
    console.warn(caffeZooMissing)
    // Setting DEEPSPARK_CAFFE_ROOT to a folder that is not a Caffe checkout is a mistake: say so as a failure.
    if (caffeZooRequested) it("DEEPSPARK_CAFFE_ROOT names a Caffe checkout", () => expect.fail(caffeZooMissing))
    else it.skip(caffeZooMissing!)
  } else {
    it("holds Caffe's examples/ and models/ prototxts (BVLC Caffe has 54)", () => {
      const files = zooPrototxts()
      expect(files).toContain(zooMarker)
      expect(files).toContain("models/bvlc_googlenet/deploy.prototxt")
      expect(files.length).toBeGreaterThanOrEqual(54)
    })
  }
})
