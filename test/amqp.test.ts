/**
 * Everything that talks to the real RabbitMQ, in one file: queue names are
 * global on a broker's virtual host, and one suite restarts the broker, so
 * these must not run beside each other.
 */
import "./amqp/space.js";
import "./amqp/transport.js";
