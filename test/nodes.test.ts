/**
 * Nodes and the manager on a real Redis, with real `agentspace node`
 * processes: each suite works in a namespace of its own, deleted at the end.
 */
import { afterAll } from "vitest";
import { deleteNamespacesMade } from "./helpers/redis.js";
import "./nodes/placement.js";
import "./nodes/failover.js";
import "./nodes/drain.js";
import "./nodes/cli.js";
import "./nodes/inspector.js";
import "./nodes/direct.js";
import "./nodes/virtual.js";

afterAll(deleteNamespacesMade);
