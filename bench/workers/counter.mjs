// Counts the messages that arrive on its port (an array counts its length).
// { expect: n } arms it and is answered "armed"; reaching n posts "counted".
import { parentPort, workerData } from "node:worker_threads";

const port = workerData.port;
let expected = 0;
let count = 0;

port.on("message", (message) => {
  count += Array.isArray(message) ? message.length : 1;
  if (count === expected) parentPort.postMessage("counted");
});
parentPort.on("message", ({ expect }) => {
  expected = expect;
  count = 0;
  parentPort.postMessage("armed");
});
parentPort.postMessage("ready");
