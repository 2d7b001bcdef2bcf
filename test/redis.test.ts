/**
 * Everything that talks to a real Redis, in one file: each suite works in a
 * namespace of its own, and the keys of every namespace made are deleted at the end.
 */
import { afterAll } from "vitest";
import { deleteNamespacesMade } from "./helpers/redis.js";
import "./redis/space.js";

afterAll(deleteNamespacesMade);
import "./redis/processes.js";
import "./redis/durability.js";
import "./redis/restart.js";
import "./redis/durable.js";
import "./redis/examples.js";
import "./redis/direct-frames.js";
import "./redis/direct-path.js";
import "./redis/direct-fallback.js";
import "./redis/direct-hostile.js";
import "./redis/direct-tls.js";
import "./redis/direct-break.js";
import "./redis/virtual.js";
import "./redis/sentinel.js";
