// The object a comlink benchmark calls: one method that returns its argument,
// exposed on the MessagePort the worker was given. Node's MessagePort is an
// EventTarget, so comlink needs no adapter on it.
import { expose } from "comlink/dist/esm/comlink.mjs";
import { parentPort, workerData } from "node:worker_threads";

expose({ echo: (message) => message }, workerData.port);
parentPort.postMessage("ready");
