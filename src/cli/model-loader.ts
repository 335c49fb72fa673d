// Opens a saved model folder: the files (checked by the store), the metadata (checked by the core),
// the vocabulary, and the ONNX runtime objects on demand.

import * as path from 'node:path';
import { parametersFromModel } from '../core/graphs/inference-graph.js';
import { parseModelMeta, vocabularyOf, type ModelMeta } from '../core/model-format.js';
import { Predictor } from '../core/predictor.js';
import type { Vocabulary } from '../core/vocabulary.js';
import { loadModelFiles } from '../io/model-store.js';
import { OnnxLanguageModel } from '../runtime/onnx-language-model.js';
import { OnnxScorer } from '../runtime/onnx-scorer.js';

export interface SavedModel {
  dir: string;
  meta: ModelMeta;
  vocab: Vocabulary;
  onnx: Uint8Array;
}

export async function openModel(dir: string): Promise<SavedModel> {
  const abs = path.resolve(dir);
  const files = await loadModelFiles(abs);
  const meta = parseModelMeta(files.meta, abs);
  const vocab = vocabularyOf(meta);
  return { dir: abs, meta, vocab, onnx: files.onnx };
}

export async function predictorFor(m: SavedModel, threads?: number): Promise<{ predictor: Predictor; release: () => Promise<void> }> {
  const lm = await OnnxLanguageModel.create(m.onnx, m.meta.config, { threads });
  return { predictor: new Predictor(lm, m.vocab, m.meta.tokenizer.mode), release: () => lm.release() };
}

export async function scorerFor(m: SavedModel, threads?: number): Promise<OnnxScorer> {
  return OnnxScorer.create(m.meta.config, parametersFromModel(m.meta.config, m.onnx), { threads });
}
