import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { renderTypes, typesFile } from "../../scripts/gen-types.js"

describe("generated types.ts", () => {
  it("equals the generator's output (run scripts/gen-types.ts after editing caffe.ts)", () => {
    expect(readFileSync(typesFile, "utf8")).toBe(renderTypes())
  })
})
