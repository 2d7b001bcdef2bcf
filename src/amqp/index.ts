export { AmqpTransport, type Deliver, type TransportTuning } from "./transport.js";
export { DEFAULT_EXCHANGE, describeBroker, resolveAmqpOptions, type AmqpOptions } from "./options.js";
export { AmqpConnectionError, AmqpPublishError } from "./errors.js";
export { BROADCAST_ROUTING_KEY } from "./wire.js";
