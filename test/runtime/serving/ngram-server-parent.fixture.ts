// Run by remote-serving-ngram.test.ts: has the model server serve a small n-gram model, prints its process id, and waits to be killed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KneserNey } from '../../../src/core/ngram/kneser-ney.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { RemoteServing } from '../../../src/runtime/serving/remote-serving.js';

const words = ['<unk>', '\n', ' ', 'the', 'tide', 'was', 'high'];
const vocab = Vocabulary.fromJSON(words);
const ids = Int32Array.from({ length: 400 }, (_, i) => 1 + (i % (words.length - 1)));
const model = KneserNey.train([ids], { vocabSize: words.length, order: 3, startId: 1 });
const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nextword-server-parent-')), 'model.ngram-handover.tmp');
writeFileSync(file, model.toBytes());
void RemoteServing.openNgram(file, vocab, 'text').then((server) => {
  process.stdout.write(`server ${server.pid}\n`);
  setInterval(() => {}, 1000); // waits to be killed
});
