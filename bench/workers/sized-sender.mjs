// Posts messages carrying a payload of a given size, one per postMessage, when told to:
// { n, bytes, to } → n messages of `bytes` characters to `to`; then answers "sent".
import { parentPort, workerData } from "node:worker_threads";
import { makeMessage } from "./message.mjs";

const port = workerData.port;

parentPort.on("message", ({ n, bytes, to }) => {
  const data = "x".repeat(bytes);
  for (let i = 0; i < n; i++) {
    const message = makeMessage(i, "sender", to);
    message.action.args.data = data;
    port.postMessage(message);
  }
  parentPort.postMessage("sent");
});
parentPort.postMessage("ready");
