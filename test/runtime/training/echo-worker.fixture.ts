// Run by worker-channel.test.ts as a child process: answers each message with what it received, and on
// 'bye' sends a few last messages, closes its channel and ends by itself.
import { workerPort } from '../../../src/runtime/training/worker-channel.js';

type In = { type: 'echo'; n: number; data?: Float32Array; extra?: unknown } | { type: 'bye'; last: number };
type Out = { type: 'echo'; n: number; data?: Float32Array; extra?: unknown; pid: number } | { type: 'last'; n: number };

const port = workerPort<Out, In>();
port.onMessage((m) => {
  if (m.type === 'echo') port.postMessage({ ...m, pid: process.pid });
  else {
    for (let n = 0; n < m.last; n++) port.postMessage({ type: 'last', n });
    port.close();
  }
});
