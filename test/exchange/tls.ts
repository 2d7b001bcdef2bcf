/**
 * The exchange over HTTPS: a certificate made here with openssl (self-signed,
 * for 127.0.0.1), trusted by an HttpSpace that is given it, refused with the
 * fix by one that is not.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, ExchangeConnectionError, HttpSpace } from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { startExchangeProcess, type ExchangeProcess } from "./exchange-process.js";

describe("the HTTP exchange over TLS (agentspace exchange --tls-cert --tls-key)", () => {
  let dir: string;
  let cert: string;
  let exchange: ExchangeProcess;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "agentspace-tls-"));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ], { stdio: "pipe" });
    cert = readFileSync(join(dir, "cert.pem"), "utf8");
    exchange = await startExchangeProcess(["--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem")]);
  });
  afterAll(async () => {
    await exchange?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves HttpSpace agents over https:// when the space trusts its certificate", async () => {
    expect(exchange.url).toMatch(/^https:\/\//);
    const space = new HttpSpace({ url: exchange.url, ca: cert });
    try {
      await space.add(Calculator, "calc");
      const me = await space.addForeground(Agent, "me");
      expect(await me.handle<Calculator>("calc").add({ a: 2, b: 3 })).toBe(5);
    } finally {
      await space.destroy();
    }
  });

  it("refuses a certificate the space does not trust with a typed error that names the fix", async () => {
    const space = new HttpSpace({ url: exchange.url });
    const added = space.addForeground(Agent, "me");
    await expect(added).rejects.toThrow(ExchangeConnectionError);
    await expect(added).rejects.toThrow(/ca \}\)|NODE_EXTRA_CA_CERTS/);
    await space.destroy();
  });
});
