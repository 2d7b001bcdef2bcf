// Posts messages on the port it was given, when told to:
// { n, batch, to: [ids] } → n messages, `batch` per postMessage (1 = one each),
// destinations taken in turn; then answers "sent".
import { parentPort, workerData } from "node:worker_threads";
import { makeMessage } from "./message.mjs";

const port = workerData.port;

parentPort.on("message", ({ n, batch, to }) => {
  if (batch === 1) {
    for (let i = 0; i < n; i++) port.postMessage(makeMessage(i, "sender", to[i % to.length]));
  } else {
    let pending = [];
    for (let i = 0; i < n; i++) {
      pending.push(makeMessage(i, "sender", to[i % to.length]));
      if (pending.length === batch) {
        port.postMessage(pending);
        pending = [];
      }
    }
    if (pending.length > 0) port.postMessage(pending);
  }
  parentPort.postMessage("sent");
});
parentPort.postMessage("ready");
