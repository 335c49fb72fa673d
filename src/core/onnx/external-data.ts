// ONNX's external data: a model's large initializers kept in a file beside the model instead of inside it
// (TensorProto.data_location = EXTERNAL, with `location`, `offset` and `length` entries). onnxruntime maps
// such a file into memory instead of copying the tensors out of the model's bytes: creating the editor's
// session of a 10,000-word model from a self-contained file touched 5,000–6,600 fresh pages (73–95 ms on
// the extension host's thread, where it runs), from a model with external data 18–650 (8–15 ms), and the
// mapped pages are read from the page cache as the model is used.
//
// Offsets are aligned to `align` bytes (64 KiB: the mapping granularity on every platform), so each tensor
// can be mapped where it lies.

import { onnx } from 'onnx-proto';

export interface ExternalDataOptions {
  /** The data file's name, as the model refers to it (relative to the model's folder). */
  location: string;
  /** Initializers of fewer bytes stay in the model. Default 64 KiB. */
  minBytes?: number;
  /** Each tensor's offset in the data file is a multiple of this. Default 64 KiB. */
  align?: number;
}

export interface SplitModel {
  /** The model, its large initializers referring to `data`. */
  model: Uint8Array;
  /** The data file's bytes: each moved tensor's raw data at its aligned offset. Empty when nothing moved. */
  data: Uint8Array;
  /** Initializers moved. */
  moved: number;
}

const KIB64 = 64 * 1024;

/** Moves the raw data of `modelBytes`' initializers of at least `minBytes` into a data file at `location`. */
export function splitExternalData(modelBytes: Uint8Array, opts: ExternalDataOptions): SplitModel {
  const { location } = opts;
  const minBytes = opts.minBytes ?? KIB64;
  const align = opts.align ?? KIB64;
  if (!location || /[\\/]/.test(location)) throw new Error(`splitExternalData: location must be a file name beside the model (got "${location}")`);
  if (!Number.isInteger(align) || align < 1) throw new Error(`splitExternalData: align must be a positive integer (got ${align})`);
  const model = onnx.ModelProto.decode(modelBytes);
  const moving: { tensor: onnx.ITensorProto; raw: Uint8Array; offset: number }[] = [];
  let end = 0;
  for (const tensor of model.graph?.initializer ?? []) {
    const raw = tensor.rawData;
    if (!raw || raw.length < minBytes || tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const offset = Math.ceil(end / align) * align;
    moving.push({ tensor, raw, offset });
    end = offset + raw.length;
  }
  const data = new Uint8Array(end);
  for (const { tensor, raw, offset } of moving) {
    data.set(raw, offset);
    tensor.rawData = new Uint8Array(0);
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.externalData = [
      onnx.StringStringEntryProto.create({ key: 'location', value: location }),
      onnx.StringStringEntryProto.create({ key: 'offset', value: String(offset) }),
      onnx.StringStringEntryProto.create({ key: 'length', value: String(raw.length) }),
    ];
  }
  return { model: moving.length ? onnx.ModelProto.encode(model).finish() : modelBytes, data, moved: moving.length };
}
