/** The HTTP exchange (Academy's protocol) and HttpSpace on it. */
import "./exchange/protocol.js";
import "./exchange/redis.js";
import "./exchange/space.js";
import "./exchange/tls.js";
import "./exchange/per-message.js";
