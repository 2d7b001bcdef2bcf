// The smallest worker that stays alive: says it runs, then waits for messages.
// (Without a listener its event loop would be empty and it would exit at once,
// and a probe would measure workers that are already gone.)
import { parentPort } from "node:worker_threads";

parentPort.on("message", () => {});
parentPort.postMessage("ready");
