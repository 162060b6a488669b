import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/**
 * WindowData (R-CNN window files with per-window crops and foreground/background sampling) is not
 * implemented: setting it up fails with an error naming the layer, instead of "unknown layer type".
 */
export class WindowDataLayer extends Layer {
  layerSetUp(): void {
    const source = this.param.window_data_param?.source
    throw this.setupError(
      `WindowData is not supported by deepspark${source !== undefined ? ` (source ${source})` : ""}; convert the windows to an LMDB (Data) or an image list (ImageData)`
    )
  }
  reshape(): void {}
  forward(_bottom: Blob[], _top: Blob[]): void {}
  backward(): void {}
}
