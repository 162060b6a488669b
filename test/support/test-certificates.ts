import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import path from "node:path"

/**
 * Test support: certificates made at test time with the openssl command (EC P-256, valid one day) in
 * `dir`: a CA (`<name>.pem`, `<name>.key`) and certificates it signs for given subject names.
 */
export const testCertificates = (dir: string) => {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" })
  const file = (name: string) => path.join(dir, name)
  return {
    file,
    ca: (name: string) => {
      openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "1", "-subj", `/CN=${name}`)
      return { cert: file(`${name}.pem`), key: file(`${name}.key`) }
    },
    /** A certificate `ca` signs for `name`, with subjectAltName `san` (e.g. "IP:10.1.0.3,DNS:localhost"). */
    cert: (ca: string, name: string, san: string) => {
      openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`)
      fs.writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\n`)
      openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "1", "-extfile", `${name}.ext`)
      return { cert: file(`${name}.pem`), key: file(`${name}.key`) }
    }
  }
}
