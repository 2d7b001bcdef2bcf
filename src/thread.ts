/**
 * What runs in every thread that hosts agents, as one module: the agent
 * runtime and its host, and the wire between threads. The package builds it
 * into one file (dist/thread.js) that the library, the worker entry and agent
 * bundles all import: a worker thread loads it once (each module a thread
 * loads adds to its start-up), and every thread, the main one too, has one
 * Agent class and one set of errors. Internal: the public surface is
 * index.ts, and runtime.ts for agent modules.
 */
export * from "./action.js";
export * from "./agent.js";
export * from "./agent-class.js";
export * from "./agent-link.js";
export * from "./answer.js";
export * from "./answer-mark.js";
export * from "./asker-index.js";
export * from "./batching-port.js";
export * from "./builtins.js";
export * from "./control.js";
export * from "./debug-gate.js";
export * from "./errors.js";
export * from "./exported-class.js";
export * from "./gather.js";
export * from "./handle.js";
export * from "./json-value.js";
export * from "./loops.js";
export * from "./message.js";
export * from "./message-stream.js";
export * from "./node-builtin.js";
export * from "./pending.js";
export * from "./protocol.js";
export * from "./timeout.js";
export * from "./telemetry/durations.js";
export * from "./telemetry/tracing.js";
export * from "./host/activity.js";
export * from "./host/agent-host.js";
export * from "./host/counters.js";
export * from "./host/defined-actions.js";
export * from "./host/hosted-agent.js";
export * from "./host/mailbox.js";
export * from "./host/stack-map.js";
export * from "./host/swap.js";
