/**
 * The bench's OpenTelemetry SDK: every span made and recorded (sampled), and
 * handed to a processor that drops it, so that the figure is what tracing
 * costs agentspace and the SDK, not an exporter's network. Imported by the
 * telemetry scenario in the main thread and, as `telemetry`, in each worker.
 */
import { BasicTracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { trace } from "@opentelemetry/api";

const dropping: SpanProcessor = {
  onStart() {},
  onEnd() {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [dropping] }));
