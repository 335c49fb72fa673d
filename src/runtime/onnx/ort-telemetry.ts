// onnxruntime's native library carries Microsoft's telemetry client. Unless ORT_DISABLE_TELEMETRY is set in
// the process's environment when onnxruntime creates its environment (the first session), it writes a
// device id and an event store under ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ and, seconds later,
// looks up mobile.events.data.microsoft.com to upload them. onnxruntime-node exposes no switch of its own
// (its binding's only setting is the log level), so every process that may load it gets the variable: set
// here before the package is loaded (ort-session.ts), and passed to every child process and worker thread.

import { isMainThread } from 'node:worker_threads';

/** The environment that keeps onnxruntime's telemetry off. */
export const ORT_TELEMETRY_OFF: Readonly<Record<string, string>> = { ORT_DISABLE_TELEMETRY: '1' };

/**
 * Sets ORT_TELEMETRY_OFF in this process's environment, which native code reads (only the main thread's
 * process.env is the process's: a worker thread's is a copy, so a worker checks that its creator set it).
 * Changes nothing else in the environment (the extension host's is every extension's).
 */
export function disableOrtTelemetry(): void {
  if (isMainThread) {
    Object.assign(process.env, ORT_TELEMETRY_OFF);
    return;
  }
  for (const [name, value] of Object.entries(ORT_TELEMETRY_OFF)) {
    if (process.env[name] !== value) {
      throw new Error(`onnxruntime would start its telemetry: this worker thread's process has no ${name}=${value} (set it before creating the thread)`);
    }
  }
}
