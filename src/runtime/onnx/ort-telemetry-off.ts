// Imported for its effect, before onnxruntime-node (ort-session.ts): modules run in the order they are
// imported, so onnxruntime's telemetry is off before the package loads (ort-telemetry.ts).
import { disableOrtTelemetry } from './ort-telemetry.js';

disableOrtTelemetry();
