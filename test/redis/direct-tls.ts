import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { RedisSpace } from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { Recorder } from "../helpers/recorder.js";
import { entriesAdded } from "./direct-streams.js";
import { describeWithRedis, probeRedis, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();
try {
  execFileSync("openssl", ["version"], { stdio: "ignore" });
} catch {
  Object.assign(probe, { available: false, reason: "no openssl on the PATH to make a test certificate with" });
}


describeWithRedis("RedisSpace direct path over TLS", probe, () => {
  let dir: string;
  let tls: { key: Buffer; cert: Buffer; ca: Buffer };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "agentspace-direct-tls-"));
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=agentspace-test", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    tls = { key: readFileSync(key), cert: readFileSync(cert), ca: readFileSync(cert) };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("carries requests straight between processes that share a certificate authority", async () => {
    const namespace = uniqueNamespace("direct-tls");
    const host = new RedisSpace({ namespace, direct: { tls } });
    const caller = new RedisSpace({ namespace, direct: { tls } });
    try {
      await host.add(Calculator, "calc");
      const me = await caller.addForeground(Recorder, "me");
      for (let n = 0; n < 20; n++) await expect(me.request({ to: "calc", action: { name: "add", args: { a: n, b: 1 } } })).resolves.toBe(n + 1);
      expect(await entriesAdded(namespace, "calc")).toBe(0);
    } finally {
      await Promise.all([host.destroy(), caller.destroy()]);
    }
  });

  it("goes through Redis instead when the peer's certificate is not trusted", async () => {
    const namespace = uniqueNamespace("direct-tls");
    const host = new RedisSpace({ namespace, direct: { tls } });
    const caller = new RedisSpace({ namespace, direct: { tls: { key: tls.key, cert: tls.cert } } }); // no CA: the host's certificate is a stranger's
    try {
      await host.add(Calculator, "calc");
      const me = await caller.addForeground(Recorder, "me");
      await expect(me.request({ to: "calc", action: { name: "add", args: { a: 1, b: 1 } } })).resolves.toBe(2);
      expect(await entriesAdded(namespace, "calc")).toBeGreaterThan(0);
    } finally {
      await Promise.all([host.destroy(), caller.destroy()]);
    }
  });
});
