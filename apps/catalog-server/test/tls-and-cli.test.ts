import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type CatalogServer, startCatalogServer } from "@musicfs/catalog-server";
import { type AgregatorTransport, Code, ConnectError, createAgregatorClient, createAgregatorTransport } from "@musicfs/rpc";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const mainTs = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const catalogFile = fileURLToPath(new URL("./fixtures/catalog.json", import.meta.url));

interface Pki {
  caFile: string;
  otherCaFile: string;
  certFile: string;
  keyFile: string;
}

/** A private CA and a server certificate it signed for 127.0.0.1, plus an unrelated CA. */
async function makePki(dir: string): Promise<Pki> {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  for (const name of ["ca", "other-ca"]) {
    openssl("req", "-x509", ...ec, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=musicfs test ${name}`);
  }
  openssl("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  await writeFile(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  );
  return {
    caFile: join(dir, "ca.pem"),
    otherCaFile: join(dir, "other-ca.pem"),
    certFile: join(dir, "server.pem"),
    keyFile: join(dir, "server.key"),
  };
}

describe("catalog-server over TLS with a private CA", () => {
  let dir: string;
  let pki: Pki;
  let server: CatalogServer;
  const transports: AgregatorTransport[] = [];
  const clientFor = (tlsCaFile?: string) => {
    const t = createAgregatorTransport({ endpoint: server.url, timeoutMs: 5000, tlsCaFile });
    transports.push(t);
    return createAgregatorClient(t);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "musicfs-catalog-tls-"));
    pki = await makePki(dir);
    server = await startCatalogServer({ catalogFile, tls: { cert: await readFile(pki.certFile), key: await readFile(pki.keyFile) } });
  });
  afterEach(() => {
    for (const t of transports.splice(0)) t.close();
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves https:// and answers a client that trusts the CA via tlsCaFile", async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await clientFor(pki.caFile).searchAlbums({ query: "Fragile", artist: "Yes", limit: 1 });
    expect(res.albums.map((a) => [a.id, a.score])).toEqual([["rg-yes-fragile", 100]]);
  });

  it("is refused by a client that does not trust the private CA", async () => {
    const err = await clientFor()
      .searchAlbums({ query: "Fragile", artist: "Yes" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    // Connect reports a failed certificate check as INTERNAL, with the TLS error in the message.
    expect((err as ConnectError).code).toBe(Code.Internal);
    expect((err as ConnectError).message).toMatch(/certificate/i);
  });

  it("is refused by a client that trusts a different CA", async () => {
    const err = await clientFor(pki.otherCaFile)
      .searchAlbums({ query: "Fragile", artist: "Yes" })
      .catch((e: unknown) => e);
    // Connect reports a failed certificate check as INTERNAL, with the TLS error in the message.
    expect((err as ConnectError).code).toBe(Code.Internal);
    expect((err as ConnectError).message).toMatch(/certificate/i);
  });
});

describe("musicfs-catalog-server CLI", () => {
  let dir: string;
  let pki: Pki;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "musicfs-catalog-cli-"));
    pki = await makePki(dir);
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
    child = undefined;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function run(args: string[]): ChildProcess {
    // Run the TypeScript entry point directly (tsx, "source" condition) so the test needs no build.
    child = spawn(process.execPath, ["--conditions", "source", "--import", "tsx", mainTs, ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    return child;
  }

  async function firstLine(proc: ChildProcess): Promise<string> {
    const lines = createInterface({ input: proc.stdout! });
    const [line] = (await once(lines, "line")) as [string];
    lines.close();
    return line;
  }

  it("prints the URL it listens on first, serves TLS from --tls-cert/--tls-key, logs calls and exits 0 on SIGTERM", async () => {
    const callLog = join(dir, "calls.jsonl");
    const proc = run([
      "--catalog",
      catalogFile,
      "--port",
      "0",
      "--tls-cert",
      pki.certFile,
      "--tls-key",
      pki.keyFile,
      "--call-log",
      callLog,
    ]);
    const line = await firstLine(proc);
    const match = /^listening on (https:\/\/127\.0\.0\.1:\d+)$/.exec(line);
    expect(match).not.toBeNull();

    const transport = createAgregatorTransport({ endpoint: match![1]!, timeoutMs: 5000, tlsCaFile: pki.caFile });
    try {
      const res = await createAgregatorClient(transport).searchAlbums({ query: "Post", artist: "Björk" });
      expect(res.albums[0]?.id).toBe("rg-bjork-post");
    } finally {
      transport.close();
    }
    const logged = (await readFile(callLog, "utf8")).trimEnd().split("\n");
    expect(logged.map((l) => (JSON.parse(l) as { query: string }).query)).toEqual(["Post"]);

    proc.kill("SIGTERM");
    const [code] = await once(proc, "exit");
    expect(code).toBe(0);
  });

  it("applies fault flags: --fail-first answers the first call with UNAVAILABLE", async () => {
    const proc = run(["--catalog", catalogFile, "--fail-first", "1"]);
    const url = (await firstLine(proc)).replace(/^listening on /, "");
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const transport = createAgregatorTransport({ endpoint: url, timeoutMs: 5000 });
    try {
      const client = createAgregatorClient(transport);
      const first = await client.searchAlbums({ query: "Fragile", artist: "Yes" }).catch((e: unknown) => e);
      expect((first as ConnectError).code).toBe(Code.Unavailable);
      const second = await client.searchAlbums({ query: "Fragile", artist: "Yes" });
      expect(second.albums[0]?.id).toBe("rg-yes-fragile");
    } finally {
      transport.close();
    }
  });

  it("exits 2 with usage on a missing --catalog", async () => {
    const proc = run(["--port", "0"]);
    let stderr = "";
    proc.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const [code] = await once(proc, "exit");
    expect(code).toBe(2);
    expect(stderr).toContain("--catalog FILE is required");
    expect(stderr).toContain("Usage: musicfs-catalog-server");
  });
});
