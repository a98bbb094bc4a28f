/** The TypeScript client: what applications import. */
export { InputQueue, PredictionError } from './input-queue.js';
export type { InputQueueOptions, PredictOptions, PredictResult } from './input-queue.js';
export { OutputQueue } from './output-queue.js';
export type { OutputQueueOptions, QueryResult } from './output-queue.js';
export type { Inputs, TensorInput } from './tensor-input.js';
export type { DataType, Tensor } from '../protocol/tensor.js';
