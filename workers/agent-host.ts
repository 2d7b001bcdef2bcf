/**
 * The worker-thread entry that hosts one agent. The agent sees only its two
 * data ports (inbound, outbound); start and stop arrive over the worker's
 * own channel.
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { ATTACH, DELIVER, DETACH, PEER_GONE, STATUS, type LinkedAgent } from "../src/agent-link.js";
import { answerTo } from "../src/answer.js";
import { BatchingPort } from "../src/batching-port.js";
import { serveControl } from "../src/control.js";
import { errorFromWire, errorToWire, MessageValidationError } from "../src/errors.js";
import { isAnswer, type Message } from "../src/message.js";
import { isPeerGone, type HostControl, type HostData, type HostStart, type PortBatch, type PortItem } from "../src/protocol.js";

process.setSourceMapsEnabled(true);

const { inbound, outbound } = workerData as HostData;
let agent: LinkedAgent | undefined;
/** Set once afterAdd has succeeded. */
let running = false;

const outbox = new BatchingPort(outbound as unknown as MessagePort, (item, error) => {
  // Only a message can fail to clone; tell its sender here, in its own thread.
  const message = item as Message;
  if (agent && !isAnswer(message)) {
    const reason = new MessageValidationError(`message to "${message.to}" cannot be cloned: ${String(error)}`);
    agent[DELIVER](answerTo(message, message.to, false, reason));
  }
});

function take(batch: PortBatch): void {
  for (const item of batch) take1(item);
}

function take1(item: PortItem): void {
  if (!agent) return;
  if (isPeerGone(item)) agent[PEER_GONE](item.gone, errorFromWire({ ...item.reason }));
  else agent[DELIVER](item);
}

/** The class `spec.className` among the module's exports. */
function findClass(module: Record<string, unknown>, className: string): new (id: string, init: unknown) => LinkedAgent {
  const candidates = [module[className], module.default, ...Object.values(module)];
  const found = candidates.find((value) => typeof value === "function" && value.name === className);
  if (!found) throw new Error(`the agent module does not export a class named "${className}": export it`);
  return found as new (id: string, init: unknown) => LinkedAgent;
}

const control: HostControl = {
  async start(spec: HostStart) {
    const module = (await import(spec.moduleUrl)) as Record<string, unknown>;
    const Cls = findClass(module, spec.className);
    agent = new Cls(spec.id, spec.init);
    agent[ATTACH]({
      post: (message) => outbox.push(message),
      reportError: (error) => report({ event: "error", error: errorToWire(error) }),
      requestTimeoutMs: spec.requestTimeoutMs,
      debug: spec.debug,
    });
    inbound.on("message", take);
    await agent.afterAdd();
    running = true;
  },
  async stop() {
    try {
      // An agent whose constructor or afterAdd failed was never added: nothing to say goodbye to.
      if (agent && running) await agent.beforeRemove();
    } finally {
      outbox.flush();
      outbound.postMessage([] satisfies PortBatch); // tells the router nothing more will come
      inbound.off("message", take);
      agent?.[DETACH](new Error("the agent was removed"));
    }
  },
  status() {
    if (!agent) throw new Error("the agent has not started");
    return { id: agent.id, ...agent[STATUS]() };
  },
};

const report = serveControl(parentPort!, control);
