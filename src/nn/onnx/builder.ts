/**
 * A small builder for ONNX graphs, encoded with onnx-proto and loaded by onnxruntime from bytes:
 * the graphs are generated from the layer sizes at run time, so no binary model is committed and
 * no Python toolchain is needed.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type NodeProto = InstanceType<typeof onnx.NodeProto>;
type ValueInfo = InstanceType<typeof onnx.ValueInfoProto>;

/** Opset 13: ReduceSum/Unsqueeze take axes as an input; Gemm, Loop and LogSoftmax as used here. */
export const OPSET = 13;
const IR_VERSION = 7;

export const OnnxType = {
  float: onnx.TensorProto.DataType.FLOAT,
  uint8: onnx.TensorProto.DataType.UINT8,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
} as const;
export type OnnxType = (typeof OnnxType)[keyof typeof OnnxType];

/** A dimension is a fixed size or a symbolic name. */
export type Dim = number | string;

/** Integers and integer lists; floats are wrapped with `float()` (1.0 is an integer to JavaScript). */
export type AttrValue = number | number[] | { float: number };
export const float = (value: number) => ({ float: value });

export function valueInfo(name: string, type: OnnxType, dims: Dim[] | null): ValueInfo {
  const shape =
    dims === null ? null : { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: type, shape } } });
}

/** Nodes of one graph (a model's main graph or a Loop body), with names that cannot collide. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  private counter = 0;

  constructor(private readonly prefix: string) {}

  /** One node with one output; returns the output's name. */
  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const out = output ?? `${this.prefix}${type}_${this.counter++}`;
    this.nodes.push(
      onnx.NodeProto.create({
        opType: type,
        input: inputs,
        output: [out],
        name: `${this.prefix}n${this.nodes.length}`,
        attribute: Object.entries(attrs).map(([name, v]) => attribute(name, v)),
      }),
    );
    return out;
  }

  /** A constant tensor (a Constant node, so Loop bodies can hold their own). */
  constant(type: OnnxType, dims: number[], values: number[], name?: string): string {
    const tensor = onnx.TensorProto.create({ dataType: type, dims });
    if (type === OnnxType.float) tensor.floatData = values;
    else if (type === OnnxType.int64) tensor.int64Data = values;
    else if (type === OnnxType.int32 || type === OnnxType.bool || type === OnnxType.uint8) tensor.int32Data = values;
    else throw new RangeError(`constant of type ${type} is not supported`);
    const out = name ?? `${this.prefix}const_${this.counter++}`;
    this.nodes.push(
      onnx.NodeProto.create({
        opType: 'Constant',
        output: [out],
        name: `${this.prefix}n${this.nodes.length}`,
        attribute: [
          onnx.AttributeProto.create({ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: tensor }),
        ],
      }),
    );
    return out;
  }

  graph(name: string, inputs: ValueInfo[], outputs: ValueInfo[]) {
    return onnx.GraphProto.create({ name, node: this.nodes, input: inputs, output: outputs });
  }
}

function attribute(name: string, v: AttrValue) {
  const A = onnx.AttributeProto.AttributeType;
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: A.INTS, ints: v });
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new TypeError(`attribute ${name}: wrap float values with float()`);
    return onnx.AttributeProto.create({ name, type: A.INT, i: v });
  }
  return onnx.AttributeProto.create({ name, type: A.FLOAT, f: v.float });
}

/** Adds a Loop node whose body is `body` (its graph proto must already be built). */
export function addLoop(
  g: GraphBuilder,
  inputs: string[],
  outputs: string[],
  body: ReturnType<GraphBuilder['graph']>,
): void {
  g.nodes.push(
    onnx.NodeProto.create({
      opType: 'Loop',
      input: inputs,
      output: outputs,
      name: `loop_${g.nodes.length}`,
      attribute: [onnx.AttributeProto.create({ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body })],
    }),
  );
}

export function encodeModel(graph: ReturnType<GraphBuilder['graph']>): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'mel-emulator',
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
