/**
 * A chaos run: three `agentspace node` processes and a manager on a
 * RedisSpace with the direct path, on a Redis of their own; 30 agents (10
 * of them durable wallets); a steady mixed load of requests, sends and
 * broadcasts; and, every few seconds, a fault drawn at random from a seeded
 * generator: a node killed (SIGKILL) and started again, a node stopped past
 * its lease (SIGSTOP, then SIGCONT: it finds its agents moved and exits, and
 * is started again), the direct TCP connections to a node cut, Redis killed
 * and started again (append-only file, `appendfsync always`), a mailbox filled.
 *
 * What is checked, beside it and at the end:
 * - every request settles (none is left waiting past its timeout), with the
 *   value it asked for or an error of agentspace's own types;
 * - every wallet's balance counts each deposit that was answered, and at
 *   most the deposits whose outcome is unknown besides (timed out, cut off);
 * - no balance is answered twice by a wallet: two holders of one id at
 *   once, or a deposit applied twice, would answer one twice.
 * Sends' and broadcasts' answers are not checked (their errors are counted).
 * Answers that reach the caller twice (delivery is at least once) are
 * counted: its request settles with the first.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, AgentspaceError, RedisSpace, type Manager } from "../../src/index.js";
import { isAnswer } from "../../src/message.js";
import { Echo } from "../fixtures/node-agents.js";
import { Wallet } from "../fixtures/wallet.js";
import { ChildScript } from "../helpers/child.js";
import { freePort } from "../helpers/free-port.js";
import { RedisServer } from "../helpers/redis-server.js";
import { Relay } from "../helpers/relay.js";

const cli = new URL("../../src/cli/main.ts", import.meta.url);
const modules = [fileURLToPath(new URL("../fixtures/node-agents.ts", import.meta.url)), fileURLToPath(new URL("../fixtures/wallet.ts", import.meta.url))];

export interface ChaosOptions {
  /** How long the load and the faults go on. */
  seconds: number;
  seed: number;
  /** Where progress goes (default: nowhere). */
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  seconds: number;
  requests: number;
  answered: number;
  /** Requests that failed, by error name. */
  errors: Record<string, number>;
  /** Errors answered to sends and broadcasts, by name. */
  sendErrors: Record<string, number>;
  faults: Record<string, number>;
  /** The longest time without a single answered request. */
  maxStallMs: number;
  /** Answers to requests that arrived a second time (the caller took the first). */
  duplicateAnswers: number;
  violations: string[];
  /** The one line of figures. */
  line: string;
}

const NODES = 3;
const ECHOES = 20;
const WALLETS = 10;
const LANES = 6;
const LEASE_MS = 2_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** The bound of the echoes' mailboxes: a burst of twice as many sends fills one. */
const MAILBOX = 200;

/** mulberry32: small, fast, and the same numbers for the same seed on every machine. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts the errors answered to its sends and broadcasts. */
class Sender extends Agent {
  errors: Record<string, number> = {};
  override handleActionError(error: unknown): void {
    const name = error instanceof Error ? error.name : "not an Error";
    this.errors[name] = (this.errors[name] ?? 0) + 1;
  }
  override handleActionValue(): void {}
}

/** One `agentspace node` process, started again under its name after each fault that ends it. */
class ChaosNode {
  child!: ChildScript;
  readonly relay = new Relay();
  #port = 0;

  constructor(
    readonly name: string,
    readonly redisUrl: string,
    readonly namespace: string,
  ) {}

  async start(): Promise<void> {
    if (this.#port === 0) {
      // Others reach it through a relay, whose connections can be cut.
      this.#port = await freePort();
      await this.relay.start(this.#port);
    }
    this.child = new ChildScript(cli, [
      "node",
      ...modules,
      "--redis",
      this.redisUrl,
      "--namespace",
      this.namespace,
      "--name",
      this.name,
      "--capacity",
      "20",
      "--lease-ms",
      String(LEASE_MS),
      "--direct-port",
      String(this.#port),
      "--advertise",
      `127.0.0.1:${this.relay.port}`,
    ]);
    await this.child.waitFor(`[node ${this.name}] ready`);
  }

  get alive(): boolean {
    return this.child.process.exitCode === null && this.child.process.signalCode === null;
  }

  async kill(): Promise<void> {
    if (this.alive) this.child.process.kill("SIGKILL");
    await this.child.exited;
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const { seconds, seed } = options;
  const log = options.log ?? (() => {});
  const random = generator(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  // A Redis of its own, writing every command to its append-only file before answering: killed
  // with SIGKILL and started again on the same files, it has lost nothing it acknowledged.
  const dir = mkdtempSync(join(tmpdir(), "agentspace-chaos-redis-"));
  const redis = new RedisServer(await freePort(), ["--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""]);
  await redis.start();
  const namespace = "chaos";
  const nodes = Array.from({ length: NODES }, (_, i) => new ChaosNode(`n${i + 1}`, redis.url, namespace));
  let space: RedisSpace | undefined;
  const violations: string[] = [];
  const violate = (what: string) => {
    if (violations.length < 50) violations.push(what);
    log(`VIOLATION ${what}`);
  };
  try {
    await Promise.all(nodes.map((node) => node.start()));
    space = new RedisSpace({ redis: { url: redis.url }, namespace, direct: true, tuning: { leaseMs: LEASE_MS } });
    space.on("error", () => {}); // the faults are reported here: expected
    const manager: Manager = space.manager();
    const echoes = Array.from({ length: ECHOES }, (_, i) => `echo-${i}`);
    const wallets = Array.from({ length: WALLETS }, (_, i) => `wallet-${i}`);
    for (const id of echoes) await manager.launch(Echo, id, undefined, { restart: "on-failure", mailboxSize: MAILBOX });
    for (const id of wallets) await manager.launch(Wallet, id, undefined, { restart: "on-failure" });
    const me = await space.addForeground(Sender, "chaos-me");
    const answersSeen = new Set<string>();
    let duplicateAnswers = 0;
    space.on("message", (message) => {
      if (message.to !== me.id || !isAnswer(message)) return;
      const parent = message.meta.parent_id ?? "";
      if (answersSeen.has(parent)) duplicateAnswers++;
      else answersSeen.add(parent);
    });
    log(`chaos: seed ${seed}, ${seconds} s, ${NODES} nodes, ${ECHOES + WALLETS} agents, Redis at ${redis.url}`);

    // The load.
    let requests = 0;
    let answered = 0;
    const errors: Record<string, number> = {};
    const answeredDeposits = new Map<string, number>(wallets.map((id) => [id, 0]));
    const unknownDeposits = new Map<string, number>(wallets.map((id) => [id, 0]));
    const balancesSeen = new Map<string, Set<number>>(wallets.map((id) => [id, new Set()]));
    let lastAnswerAt = Date.now();
    let maxStallMs = 0;
    const answeredNow = () => {
      const now = Date.now();
      maxStallMs = Math.max(maxStallMs, now - lastAnswerAt);
      lastAnswerAt = now;
      answered++;
    };
    const startedAt = Date.now();
    const failed = (error: unknown, to: string, sentAt: number) => {
      const name = error instanceof Error ? error.name : "not an Error";
      errors[name] = (errors[name] ?? 0) + 1;
      // Said with when it was sent, to read beside the faults (a full mailbox is one of them).
      if (name !== "MailboxFullError") log(`${((sentAt - startedAt) / 1_000).toFixed(1)} s: a request to ${to} failed: ${String(error)}`);
      if (!(error instanceof AgentspaceError)) violate(`a request failed with an error of no agentspace type: ${String(error)}`);
    };
    const deadline = Date.now() + seconds * 1_000;
    let value = 0;
    // The load goes on until the deadline, and until the faults are done (see below).
    let faulting = true;
    const lane = async () => {
      while (Date.now() < deadline || faulting) {
        const roll = random();
        if (roll < 0.45) {
          const to = pick(echoes);
          const sent = ++value;
          const sentAt = Date.now();
          requests++;
          try {
            const got = await me.request({ to, action: { name: "echo", args: { value: sent } } }, { timeoutMs: REQUEST_TIMEOUT_MS });
            if (got !== sent) violate(`${to} answered ${JSON.stringify(got)} to echo ${sent}`);
            answeredNow();
          } catch (error) {
            failed(error, to, sentAt);
          }
        } else if (roll < 0.8) {
          const to = pick(wallets);
          const sentAt = Date.now();
          requests++;
          try {
            const { balance } = await me.request<{ balance: number }>({ to, action: { name: "deposit", args: { n: 1 } } }, { timeoutMs: REQUEST_TIMEOUT_MS });
            const seen = balancesSeen.get(to)!;
            if (seen.has(balance)) violate(`${to} answered balance ${balance} twice (two holders at once, or a deposit applied twice)`);
            seen.add(balance);
            answeredDeposits.set(to, answeredDeposits.get(to)! + 1);
            answeredNow();
          } catch (error) {
            failed(error, to, sentAt);
            unknownDeposits.set(to, unknownDeposits.get(to)! + 1);
          }
        } else if (roll < 0.98) {
          me.send({ to: pick(echoes), action: { name: "echo", args: { value: 0 } } });
          await sleep(1);
        } else {
          me.send({ to: "*", action: { name: "where" } });
          await sleep(1);
        }
      }
    };
    const lanes = Array.from({ length: LANES }, lane);

    // The faults.
    const faults: Record<string, number> = {};
    const kinds = ["kill", "stall", "cut", "redis", "fill"] as const;
    // Drawn in rounds, each kind once per round in a seeded order: however long each fault takes
    // on a busy machine, every kind comes, and the run goes on until the first round is done.
    let round: Array<(typeof kinds)[number]> = [];
    const nextKind = () => {
      if (round.length === 0) {
        round = [...kinds];
        for (let i = round.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [round[i], round[j]] = [round[j]!, round[i]!];
        }
      }
      return round.pop()!;
    };
    let drawn = 0;
    const faultsDone = (async () => {
      while (Date.now() < deadline - 3_000 || drawn < kinds.length) {
        await sleep(2_000 + random() * 3_000);
        if (Date.now() >= deadline - 3_000 && drawn >= kinds.length) break;
        const kind = nextKind();
        drawn++;
        faults[kind] = (faults[kind] ?? 0) + 1;
        const node = pick(nodes);
        const at = ((Date.now() - startedAt) / 1_000).toFixed(1);
        if (kind === "kill") {
          log(`${at} s: kill -9 node ${node.name}, then start it again`);
          await node.kill();
          await node.start();
        } else if (kind === "stall") {
          log(`${at} s: SIGSTOP node ${node.name} past its lease, then SIGCONT`);
          node.child.process.kill("SIGSTOP");
          await sleep(LEASE_MS + 1_500);
          node.child.process.kill("SIGCONT");
          // Its lease ran out: it exits rather than run its agents twice (or, had it renewed in time, lives on).
          await Promise.race([node.child.exited, sleep(10_000)]);
          if (!node.alive) await node.start();
        } else if (kind === "cut") {
          log(`${at} s: cut the direct connections to node ${node.name} (${node.relay.cut()})`);
        } else if (kind === "redis") {
          log(`${at} s: kill -9 Redis, then start it again`);
          await redis.kill();
          await redis.start();
        } else {
          const to = pick(echoes);
          log(`${at} s: fill the mailbox of ${to} (${2 * MAILBOX} sends at once)`);
          for (let i = 0; i < 2 * MAILBOX; i++) me.send({ to, action: { name: "slow", args: { ms: 5 } } });
        }
      }
    })();
    await faultsDone;
    faulting = false;
    // Every request has a timeout: one still waiting well past it would hang its caller for ever.
    const settled = await Promise.race([Promise.all(lanes).then(() => true), sleep(REQUEST_TIMEOUT_MS + 15_000).then(() => false)]);
    if (!settled) violate(`requests still waiting ${REQUEST_TIMEOUT_MS + 15_000} ms after the load stopped (their timeout is ${REQUEST_TIMEOUT_MS} ms)`);
    maxStallMs = Math.max(maxStallMs, Date.now() - lastAnswerAt);

    // The durable states, once every node is back.
    for (const node of nodes) if (!node.alive) await node.start();
    for (const id of wallets) {
      let balance: number | undefined;
      for (let attempt = 0; balance === undefined && attempt < 10; attempt++) {
        try {
          ({ balance } = await me.request<{ balance: number }>({ to: id, action: { name: "deposit", args: { n: 0 } } }, { timeoutMs: REQUEST_TIMEOUT_MS }));
        } catch {
          await sleep(1_000);
        }
      }
      const low = answeredDeposits.get(id)!;
      const high = low + unknownDeposits.get(id)!;
      if (balance === undefined) violate(`${id} could not be read at the end`);
      else if (balance < low || balance > high) violate(`${id} holds ${balance}: ${low} deposits were answered, ${high - low} more may have been applied`);
    }

    const list = (counts: Record<string, number>) =>
      Object.entries(counts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, n]) => `${name} ${n.toLocaleString("en-US")}`)
        .join(", ") || "none";
    const faultCount = Object.values(faults).reduce((a, b) => a + b, 0);
    const line =
      `chaos seed ${seed}, ${seconds} s: ${requests.toLocaleString("en-US")} requests, ${answered.toLocaleString("en-US")} answered, ` +
      `errors: ${list(errors)}; ${faultCount} faults (${list(faults)}); max stall ${(maxStallMs / 1_000).toFixed(1)} s; ` +
      `send errors: ${list(me.errors)}; ${violations.length} violations`;
    log(line);
    return { seed, seconds, requests, answered, errors, sendErrors: me.errors, faults, maxStallMs, duplicateAnswers, violations, line };
  } finally {
    await space?.destroy().catch(() => {});
    await Promise.all(nodes.map(async (node) => {
      if (node.child) await node.kill();
      await node.relay.close();
    }));
    await redis.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
