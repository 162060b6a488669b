export type UpgradeLogLevel = "info" | "warning" | "error"

/** Receives Caffe's upgrade log lines (same wording as Caffe's glog output). */
export type UpgradeLogger = (level: UpgradeLogLevel, message: string) => void

export interface UpgradeOptions {
  /** The file the message came from: used in log lines and errors (and for solver snapshot_prefix). */
  readonly file?: string
  readonly log?: UpgradeLogger
}

/** Resolved options as the upgrade steps use them. */
export interface UpgradeContext {
  readonly file: string
  readonly log: UpgradeLogger
}

const silent: UpgradeLogger = () => {}

export const upgradeContext = (options: UpgradeOptions = {}): UpgradeContext => ({
  file: options.file ?? "<message>",
  log: options.log ?? silent
})
