// Answers every message on its port with the same message: the far end of a round trip.
import { parentPort, workerData } from "node:worker_threads";

const port = workerData.port;
port.on("message", (message) => port.postMessage(message));
parentPort.postMessage("ready");
