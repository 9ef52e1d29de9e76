// nnfpga's library API: what `import ... from 'nnfpga'` gives a TypeScript program.
// docs/API.md has an example and says what each group is for; the command line
// (host/cli.ts) is built on the same functions.

// Models: ONNX in, float layers with every shape inferred; the operators accepted.
export { loadOnnx, importOnnx } from './onnx/import.ts';
export {
  SUPPORTED_OPERATORS,
  SUPPORTED_OPS,
  operatorSupport,
  operatorTable,
  type OperatorSupport,
} from './onnx/operators.ts';
export { loadModel, type LoadedModel } from './model.ts';
export { numel, formatShape } from './ir.ts';
export type {
  FloatModel,
  Layer,
  ConvLayer,
  DenseLayer,
  PoolLayer,
  AddLayer,
  ConcatLayer,
  PadLayer,
  HostStep,
  InputTransform,
  Shape,
  Activation,
} from './ir.ts';
export { floatModelInfo, qModelInfo, type ModelInfo, type LayerInfo } from './info.ts';

// Data: NumPy .npy files and the Fashion-MNIST test set.
export {
  readNpy,
  parseNpy,
  readSamples,
  readLabelledNpy,
  encodeNpy,
  encodeNpyFloat32,
  checkFinite,
  type NpyArray,
  type Samples,
} from './data/npy.ts';
export { loadFashionMnistTest, DEFAULT_FASHION_MNIST_DIR, type LabelledSet } from './data/fashion-mnist.ts';

// Quantization (int8, TFLite's scheme) and the two references.
export {
  quantize,
  calibrate,
  quantizeModel,
  type CalibrationStats,
  type QuantizeSource,
} from './quant/quantize.ts';
export { saveQModel, loadQModel, serializeQModel, parseQModel } from './quant/qmodel-io.ts';
export type {
  QModel,
  QLayer,
  QConv,
  QDense,
  QPool,
  QAdd,
  QConcat,
  QPad,
  ActQuant,
  Multiplier,
} from './quant/types.ts';
export { runInt, quantizeInput, dequantize, type RoundingRule } from './quant/intref.ts';
export { nnfpgaRule, tfliteRule, onnxruntimeRule, roundingRules } from './quant/rounding.ts';
export { inferFloat, runFloat, argmax } from './ref/float.ts';

// Compilation for a device configuration.
export { compile, plan, type CompileOptions } from './compiler/compile.ts';
export { SIM_CONFIG, BOARD_CONFIG, HX8K_CONFIG } from './compiler/configs.ts';
export type {
  DeviceConfig,
  DeviceImage,
  CompiledLayer,
  TensorPlacement,
  MemoryNeeds,
} from './compiler/types.ts';

// Running: a target (simulated board or serial port), and run/eval over many inputs.
export {
  openTarget,
  openDevice,
  DeviceBackend,
  DEFAULT_BAUD,
  type TargetOptions,
  type Counters,
} from './target.ts';
export {
  runModel,
  evalModel,
  runSamples,
  prepareModel,
  findDivergence,
  type InferenceBackend,
  type BackendFactory,
  type RunReport,
  type RunResult,
  type EvalReport,
  type EvalResult,
  type LabelledSamples,
  type ResultStream,
} from './run.ts';
export type { ProgressEvent, ProgressListener } from './progress.ts';

// The device and the link under it, with the transports (serial port, in-process mock).
export { Device, Space, parseIdentify, checkFits, deviceConfig, type DeviceInfo } from './device.ts';
export { Link, type LinkOptions, type LinkStats } from './link/link.ts';
export { SerialTransport, type Transport, type SerialOptions } from './link/transport.ts';
export { MockDevice } from './link/mock.ts';
export { startBoardSim, buildBoardSim, type SimBoard, type SimBoardOptions } from './sim/board.ts';

// Boards: the table, bitstream builds and flashing.
export { BOARDS, boardNames, lookupBoard, type BoardSpec } from './board/boards.ts';
export { buildBoard, BuildError, type BuildResult, type BuildOptions } from './board/build.ts';
export { flashBoard, type FlashResult, type FlashOptions } from './board/flash.ts';

// Errors (each carries the exit code the command line uses) and where files go.
export {
  NnfpgaError,
  InputError,
  UsageError,
  UnsupportedOpError,
  ModelTooLargeError,
  MissingToolError,
  DeviceError,
  LinkTimeoutError,
  ToolError,
  reportError,
} from './errors.ts';
export { DeviceStatusError } from './link/frame.ts';
export { PACKAGE_ROOT, buildDir, userCacheDir } from './paths.ts';
