/**
 * Everything that talks to the real RabbitMQ, in one file: queue names are
 * global on a broker's virtual host, and two suites restart the broker, so
 * these must not run beside each other.
 */
import { afterAll } from "vitest";
import { deleteExchangesMade } from "./helpers/broker.js";
import "./amqp/space.js";
import "./amqp/processes.js";
import "./amqp/interop.js";
import "./amqp/delivery.js";
import "./amqp/examples.js";
import "./amqp/restart.js";
import "./amqp/transport.js";
import "./amqp/limits.js";
import "./amqp/tls.js";
import "./amqp/duplicate-ids.js";
import "./amqp/addresses.js";
import "./amqp/fuzz.js";
import "./amqp/debug-actions.js";
import "./amqp/errors-only.js";

// Exchanges are durable: take the ones these suites made away again.
afterAll(deleteExchangesMade);
