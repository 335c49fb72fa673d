// A small ONNX graph builder: `op.X(...)` returns a value, so graph code reads like the equations it
// computes. Names are scoped (`layer0.fwd.z`) and unique across a graph and its subgraphs (Scan bodies
// may refer to outer values by name). Builders return protobuf bytes; only the edges write files.

import { onnx } from 'onnx-proto';

export const OPSET = 17;
export const IR_VERSION = 8;
/** onnxruntime's contrib operators. */
const MS_DOMAIN = 'com.microsoft';

export const DType = {
  float: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
} as const;
export type DTypeCode = (typeof DType)[keyof typeof DType];

/** A dimension: a fixed size or a symbolic name (e.g. 'T', 'B'). */
export type Dim = number | string;

export class Value {
  constructor(
    readonly graph: GraphBuilder,
    readonly name: string,
  ) {}
}

type AttrValue = number | number[] | string | GraphBuilder | { float: number } | { floats: number[] };
type Attrs = Record<string, AttrValue | undefined>;

/** Shared by a graph and its subgraphs so that every name is unique in the model. */
class NameSource {
  private readonly used = new Map<string, number>();
  fresh(base: string): string {
    const n = this.used.get(base) ?? 0;
    this.used.set(base, n + 1);
    return n === 0 ? base : `${base}__${n}`;
  }
}

function valueInfo(name: string, dtype: DTypeCode, shape: Dim[] | undefined): onnx.IValueInfoProto {
  const tensorType: onnx.TypeProto.ITensor = { elemType: dtype };
  if (shape) {
    tensorType.shape = { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  }
  return { name, type: { tensorType } };
}

export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  /** Operator sets beyond ONNX's own that the model uses (shared with subgraphs: the model imports them). */
  private readonly domains: Set<string>;
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly scopes: string[] = [];
  private readonly constCache = new Map<string, Value>();

  constructor(
    readonly name: string,
    private readonly names: NameSource = new NameSource(),
    /** Subgraph inputs and outputs are bound by position, so their names may be made unique. */
    private readonly isSubgraph = false,
    domains: Set<string> = new Set(),
  ) {
    this.domains = domains;
  }

  /** A subgraph (e.g. a Scan body, an If branch) whose names do not collide with this graph's. */
  subgraph(name: string): GraphBuilder {
    return new GraphBuilder(name, this.names, true, this.domains);
  }

  /** `name` if it is free; in a subgraph, a fresh variant of it; in the main graph, an error. */
  private claim(name: string, what: string): string {
    const full = this.names.fresh(this.isSubgraph ? `${this.name}.${name}` : name);
    if (full !== name && !this.isSubgraph) throw new Error(`${what} name "${name}" is already used`);
    return full;
  }

  /** Runs `fn` with names prefixed by `scope.`. */
  scope<R>(scope: string, fn: () => R): R {
    this.scopes.push(scope);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private scoped(base: string): string {
    return this.names.fresh(this.scopes.length ? `${this.scopes.join('.')}.${base}` : base);
  }

  input(name: string, dtype: DTypeCode, shape?: Dim[]): Value {
    const full = this.claim(name, 'graph input');
    this.inputs.push(valueInfo(full, dtype, shape));
    return new Value(this, full);
  }

  /** Declares `value` as a graph output called `name` (through an Identity node when the names differ). */
  output(value: Value, name: string, dtype: DTypeCode, shape?: Dim[]): void {
    let outName = value.name;
    if (outName !== name) {
      outName = this.claim(name, 'graph output');
      this.nodes.push({ opType: 'Identity', input: [value.name], output: [outName], name: `${outName}.identity` });
    }
    this.outputs.push(valueInfo(outName, dtype, shape));
  }

  /** A named initializer holding fixed data. */
  initializer(name: string, data: Float32Array | Uint16Array | Int8Array, shape: number[], dtype: DTypeCode = DType.float): Value {
    this.claim(name, 'initializer');
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name, dims: shape, dataType: dtype, rawData: bytes });
    return new Value(this, name);
  }

  /** A float32 constant (cached by content, so repeated scalars are one node). */
  constFloat(values: number | number[], shape?: number[]): Value {
    const arr = typeof values === 'number' ? [values] : values;
    const dims = shape ?? (typeof values === 'number' ? [] : [arr.length]);
    return this.cachedConst('f', arr, dims, () => ({
      dims,
      dataType: DType.float,
      rawData: new Uint8Array(Float32Array.from(arr).buffer),
    }));
  }

  constInt64(values: number | number[], shape?: number[]): Value {
    const arr = typeof values === 'number' ? [values] : values;
    const dims = shape ?? (typeof values === 'number' ? [] : [arr.length]);
    return this.cachedConst('i', arr, dims, () => ({
      dims,
      dataType: DType.int64,
      rawData: new Uint8Array(BigInt64Array.from(arr.map((v) => BigInt(v))).buffer),
    }));
  }

  private cachedConst(kind: string, arr: number[], dims: number[], tensor: () => onnx.ITensorProto): Value {
    const key = `${kind}:${dims.join('x')}:${arr.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.names.fresh(`const_${kind}`);
    this.nodes.push({
      opType: 'Constant',
      input: [],
      output: [name],
      name,
      attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: tensor() }],
    });
    const v = new Value(this, name);
    this.constCache.set(key, v);
    return v;
  }

  /** Adds one node; returns its outputs. An empty-string input means "optional input omitted". */
  node(opType: string, inputs: (Value | '')[], attrs: Attrs = {}, nOutputs = 1, label?: string): Value[] {
    const base = label ?? opType.toLowerCase();
    const outputs = Array.from({ length: nOutputs }, (_, i) => this.scoped(nOutputs === 1 ? base : `${base}_${i}`));
    const attribute: onnx.IAttributeProto[] = [];
    for (const [name, v] of Object.entries(attrs)) {
      if (v === undefined) continue;
      attribute.push(encodeAttr(name, v));
    }
    this.nodes.push({
      opType,
      input: inputs.map((v) => (v === '' ? '' : v.name)),
      output: outputs,
      name: outputs[0],
      attribute,
    });
    return outputs.map((o) => new Value(this, o));
  }

  /**
   * A node of onnxruntime's own operator set (`com.microsoft`): only for graphs built to run in
   * onnxruntime at load time, never for a model file meant to be portable.
   */
  runtimeNode(opType: string, inputs: (Value | '')[], attrs: Attrs = {}, label?: string): Value {
    const out = this.node(opType, inputs, attrs, 1, label)[0]!;
    this.nodes[this.nodes.length - 1]!.domain = MS_DOMAIN;
    this.domains.add(MS_DOMAIN);
    return out;
  }

  /** Same as node() with one output. */
  op1(opType: string, inputs: (Value | '')[], attrs: Attrs = {}, label?: string): Value {
    return this.node(opType, inputs, attrs, 1, label)[0]!;
  }

  toGraphProto(): onnx.IGraphProto {
    return {
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    };
  }

  /** Serialises this graph as a complete model. */
  toModelBytes(opts: { producer?: string; docString?: string; metadata?: Record<string, string> } = {}): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }, ...[...this.domains].map((domain) => ({ domain, version: 1 }))],
      producerName: opts.producer ?? 'nextword',
      graph: this.toGraphProto(),
    };
    if (opts.docString) model.docString = opts.docString;
    if (opts.metadata) model.metadataProps = Object.entries(opts.metadata).map(([key, value]) => ({ key, value }));
    return onnx.ModelProto.encode(model).finish();
  }
}

function encodeAttr(name: string, v: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: use { float: x } for float attributes`);
    return { name, type: T.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (v instanceof GraphBuilder) return { name, type: T.GRAPH, g: v.toGraphProto() };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.FLOATS, floats: v.floats };
}

/**
 * The operators the graphs use, as functions that return values. Names follow the ONNX operators;
 * optional attributes are passed as in the spec.
 */
export function ops(g: GraphBuilder) {
  const n = (type: string, inputs: (Value | '')[], attrs?: Attrs, label?: string) => g.op1(type, inputs, attrs, label);
  const i64 = (v: number[]) => g.constInt64(v);
  return {
    add: (a: Value, b: Value, label?: string) => n('Add', [a, b], {}, label),
    sub: (a: Value, b: Value, label?: string) => n('Sub', [a, b], {}, label),
    mul: (a: Value, b: Value, label?: string) => n('Mul', [a, b], {}, label),
    div: (a: Value, b: Value, label?: string) => n('Div', [a, b], {}, label),
    pow: (a: Value, b: Value, label?: string) => n('Pow', [a, b], {}, label),
    neg: (a: Value, label?: string) => n('Neg', [a], {}, label),
    sqrt: (a: Value, label?: string) => n('Sqrt', [a], {}, label),
    exp: (a: Value, label?: string) => n('Exp', [a], {}, label),
    log: (a: Value, label?: string) => n('Log', [a], {}, label),
    tanh: (a: Value, label?: string) => n('Tanh', [a], {}, label),
    sigmoid: (a: Value, label?: string) => n('Sigmoid', [a], {}, label),
    max: (xs: Value[], label?: string) => n('Max', xs, {}, label),
    min: (xs: Value[], label?: string) => n('Min', xs, {}, label),
    sum: (xs: Value[], label?: string) => (xs.length === 1 ? xs[0]! : n('Sum', xs, {}, label)),
    identity: (a: Value, label?: string) => n('Identity', [a], {}, label),
    cast: (a: Value, to: DTypeCode, label?: string) => n('Cast', [a], { to }, label),
    matmul: (a: Value, b: Value, label?: string) => n('MatMul', [a, b], {}, label),
    /** Y = alpha · op(A)·op(B) + beta · C */
    gemm: (
      a: Value,
      b: Value,
      c: Value | undefined,
      attrs: { transA?: number; transB?: number; alpha?: number; beta?: number } = {},
      label?: string,
    ) =>
      n('Gemm', c ? [a, b, c] : [a, b], {
        transA: attrs.transA,
        transB: attrs.transB,
        alpha: attrs.alpha === undefined ? undefined : { float: attrs.alpha },
        beta: attrs.beta === undefined ? undefined : { float: attrs.beta },
      }, label),
    transpose: (a: Value, perm: number[], label?: string) => n('Transpose', [a], { perm }, label),
    reshape: (a: Value, shape: number[], label?: string) => n('Reshape', [a, i64(shape)], {}, label),
    reshapeTo: (a: Value, shape: Value, label?: string) => n('Reshape', [a, shape], {}, label),
    unsqueeze: (a: Value, axes: number[], label?: string) => n('Unsqueeze', [a, i64(axes)], {}, label),
    squeeze: (a: Value, axes: number[], label?: string) => n('Squeeze', [a, i64(axes)], {}, label),
    concat: (xs: Value[], axis: number, label?: string) => n('Concat', xs, { axis }, label),
    split: (a: Value, sizes: number[], axis: number, label?: string) =>
      g.node('Split', [a, i64(sizes)], { axis }, sizes.length, label ?? 'split'),
    /** `parts` equal pieces along `axis` (the size may be symbolic). */
    splitEqual: (a: Value, parts: number, axis: number, label?: string) =>
      parts === 1 ? [a] : g.node('Split', [a], { axis }, parts, label ?? 'split'),
    slice: (a: Value, starts: number[], ends: number[], axes: number[], label?: string) =>
      n('Slice', [a, i64(starts), i64(ends), i64(axes)], {}, label),
    gather: (data: Value, indices: Value, axis = 0, label?: string) => n('Gather', [data, indices], { axis }, label),
    gatherElements: (data: Value, indices: Value, axis: number, label?: string) =>
      n('GatherElements', [data, indices], { axis }, label),
    scatterElements: (data: Value, indices: Value, updates: Value, axis: number, reduction?: string, label?: string) =>
      n('ScatterElements', [data, indices, updates], { axis, reduction }, label),
    scatterND: (data: Value, indices: Value, updates: Value, reduction?: string, label?: string) =>
      n('ScatterND', [data, indices, updates], { reduction }, label),
    softmax: (a: Value, axis = -1, label?: string) => n('Softmax', [a], { axis }, label),
    logSoftmax: (a: Value, axis = -1, label?: string) => n('LogSoftmax', [a], { axis }, label),
    reduceSum: (a: Value, axes: number[], keepdims = 0, label?: string) =>
      n('ReduceSum', [a, i64(axes)], { keepdims }, label),
    /** Sum of squares over all elements (a scalar). */
    sumSquares: (a: Value, label?: string) => n('ReduceSumSquare', [a], { keepdims: 0 }, label),
    reduceMean: (a: Value, axes: number[] | undefined, keepdims = 0, label?: string) =>
      n('ReduceMean', [a], { axes, keepdims }, label),
    shape: (a: Value, label?: string) => n('Shape', [a], {}, label),
    size: (a: Value, label?: string) => n('Size', [a], {}, label),
    constantOfShape: (shape: Value, label?: string) => n('ConstantOfShape', [shape], {}, label),
    topK: (a: Value, k: Value, label?: string) => g.node('TopK', [a, k], { axis: -1 }, 2, label ?? 'topk'),
  };
}

export type Ops = ReturnType<typeof ops>;
