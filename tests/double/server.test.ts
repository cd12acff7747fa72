// The engine double's GraphQL side, without any module process: validation against the
// real schema, loud failures, the session token, and exec caching semantics.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEngineDouble, volumeDir, type EngineDouble } from "../../double/index.js";
import { execLog, tempStateDir, toyModule } from "./helpers/env.js";

let double: EngineDouble;
let stateDir: string;

beforeAll(async () => {
  stateDir = tempStateDir("server");
  double = await startEngineDouble({ stateDir, moduleDir: toyModule });
});

afterAll(async () => {
  await double?.close();
});

async function post(body: unknown, token: string | undefined) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== undefined) headers["authorization"] = `Basic ${Buffer.from(`${token}:`).toString("base64")}`;
  const res = await fetch(`http://127.0.0.1:${double.port}/query`, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

function ok<T = Record<string, unknown>>(r: { data?: unknown; errors?: { message: string }[] }): T {
  if (r.errors?.length) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return r.data as T;
}

async function volumeId(key: string): Promise<string> {
  return ok<{ cacheVolume: { id: string } }>(await double.query(`query($k: String!) { cacheVolume(key: $k) { id } }`, { k: key })).cacheVolume.id;
}

describe("GraphQL endpoint", () => {
  it("checks the session token the way the SDK client sends it", async () => {
    const anonymous = await post({ query: "{ version }" }, undefined);
    expect(anonymous.status).toBe(401);
    const wrong = await post({ query: "{ version }" }, "not-the-token");
    expect(wrong.status).toBe(401);
    const right = await post({ query: "{ version }" }, double.token);
    expect(right.status).toBe(200);
    expect(right.json.data).toEqual({ version: expect.stringContaining("v0.21") });
  });

  it("rejects a query with a misspelt field by validating it against the schema", async () => {
    const r = await double.query(`{ container { from(address: "alpine") { withExec(args: ["true"]) { stdot } } } }`);
    expect(r.errors?.[0]?.message).toMatch(/Cannot query field "stdot" on type "Container"/);
    expect(r.errors?.[0]?.extensions?.["code"]).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(r.data).toBeUndefined();
    expect(execLog(stateDir)).toHaveLength(0);
  });

  it("rejects a wrong argument name and a wrong enum value", async () => {
    const badArg = await double.query(`{ container { withMountedCache(path: "/c", volume: "x") { id } } }`);
    expect(badArg.errors?.map((e) => e.message).join("\n")).toMatch(/Unknown argument "volume"/);
    const badEnum = await double.query(`{ container { withMountedCache(path: "/c", cache: "x", sharing: EXCLUSIVE) { id } } }`);
    expect(badEnum.errors?.[0]?.message).toMatch(/Value "EXCLUSIVE" does not exist in "CacheSharingMode" enum/);
  });

  it("fails loudly on a valid field it does not implement", async () => {
    const r = await double.query(`{ container { withServiceBinding(alias: "db", service: "x") { id } } }`);
    expect(r.errors?.[0]?.message).toBe("engine double: Container.withServiceBinding is not implemented");
    expect(double.unimplemented.has("Container.withServiceBinding")).toBe(true);
  });

  it("refuses options it does not model instead of ignoring them", async () => {
    const r = await double.query(`{ container { withExec(args: ["true"], insecureRootCapabilities: true) { stdout } } }`);
    expect(r.errors?.[0]?.message).toMatch(/withExec\(insecureRootCapabilities: \.\.\.\) is not implemented/);
  });

  it("serves the SDK's own client (lazy chains, IDs, node(id:)) over HTTP", async () => {
    const { connection, dag, Container, Context } = await import("@dagger.io/dagger");
    process.env["DAGGER_SESSION_PORT"] = String(double.port);
    process.env["DAGGER_SESSION_TOKEN"] = double.token;
    let out = "";
    let code = -1;
    try {
      await connection(async () => {
        const vol = dag.cacheVolume("sdk-client-volume");
        const ctr = dag
          .container()
          .from("alpine:3.20")
          .withMountedCache("/data", vol)
          .withWorkdir("/work")
          .withNewFile("/work/hello.txt", "hello from a file\n")
          .withExec(["sh", "-c", "cat hello.txt; echo sdk > /data/marker"]);
        out = await ctr.stdout();
        code = await ctr.exitCode();
        // An object passed as an argument (the SDK sends its ID) ...
        const copy = dag.container().withMountedDirectory("/copy", ctr.directory("/work")).withExec(["cat", "/copy/hello.txt"]);
        expect(await copy.stdout()).toBe("hello from a file\n");
        // ... and reloaded through node(id:), as the SDK loads core-type arguments of a function.
        const id = await ctr.id();
        const again = new Container(new Context().selectNode(id, "Container"));
        expect(await again.file("/work/hello.txt").contents()).toBe("hello from a file\n");
        // The SDK's legacy loadXFromID fields are gone from the v0.21.8 schema: rejected.
        await expect(dag.loadContainerFromID(id as never).file("/work/hello.txt").contents()).rejects.toThrow(
          /Cannot query field "loadContainerFromID" on type "Query"/,
        );
      });
    } finally {
      delete process.env["DAGGER_SESSION_PORT"];
      delete process.env["DAGGER_SESSION_TOKEN"];
    }
    expect(out).toBe("hello from a file\n");
    expect(code).toBe(0);
    expect(readFileSync(join(volumeDir(stateDir, "sdk-client-volume"), "marker"), "utf8")).toBe("sdk\n");
    // stdout and exitCode on the same chain ran the process once
    const lines = execLog(stateDir).filter((l) => l.args[2]?.includes("hello.txt"));
    expect(lines.filter((l) => !l.cached)).toHaveLength(1);
  });
});

describe("withExec", () => {
  it("runs a real process with the container's env, workdir and files, without a shell around it", async () => {
    const data = ok<{ container: { from: { withEnvVariable: { withWorkdir: { withNewFile: { withExec: { stdout: string } } } } } } }>(
      await double.query(
        `query($arg: String!) { container { from(address: "alpine:3.20") { withEnvVariable(name: "GREETING", value: "hi") {
          withWorkdir(path: "/src") { withNewFile(path: "note.txt", contents: "a note") {
            withExec(args: ["sh", "-c", "echo \\"$GREETING $1 $(pwd) $(cat note.txt)\\"; env | sort | cut -d= -f1 | tr '\\\\n' ' '", "sh", $arg]) { stdout } } } } } } }`,
        { arg: "$(touch /tmp/pwned); `id`" },
      ),
    );
    const out = data.container.from.withEnvVariable.withWorkdir.withNewFile.withExec.stdout;
    const [first, second] = out.split("\n");
    expect(first).toBe("hi $(touch /tmp/pwned); `id` /src a note");
    // only the container's env (plus PATH and what sh sets) reaches the process
    expect(second?.trim().split(" ").filter((n) => !["PWD", "SHLVL", "_"].includes(n))).toEqual(["GREETING", "PATH"]);
  });

  it("finds its own tools whatever PATH the container sets", async () => {
    const vol = await volumeId("path-test");
    const r = ok<{ container: { withEnvVariable: { withMountedCache: { withExec: { stdout: string } } } } }>(
      await double.query(
        `query($vol: ID!) { container { withEnvVariable(name: "PATH", value: "/nowhere") { withMountedCache(path: "/v", cache: $vol, sharing: LOCKED) {
          withExec(args: ["/bin/sh", "-c", "echo $PATH"]) { stdout } } } } }`,
        { vol },
      ),
    );
    expect(r.container.withEnvVariable.withMountedCache.withExec.stdout).toBe("/nowhere\n");
  });

  it("returns exec errors like the engine: exit code, stdout and stderr in the message and extensions", async () => {
    const r = await double.query(
      `{ container { from(address: "alpine") { withExec(args: ["sh", "-c", "echo out; echo boom >&2; exit 7"]) { stdout } } } }`,
    );
    const e = r.errors?.[0];
    expect(e?.message).toMatch(/exit code: 7/);
    expect(e?.message).toMatch(/boom/);
    expect(e?.extensions).toMatchObject({ _type: "EXEC_ERROR", exitCode: 7, stdout: "out", stderr: "boom", cmd: ["sh", "-c", "echo out; echo boom >&2; exit 7"] });
  });

  it("honours expect: ANY and FAILURE", async () => {
    const any = ok<{ container: { withExec: { exitCode: number } } }>(
      await double.query(`{ container { withExec(args: ["sh", "-c", "exit 3"], expect: ANY) { exitCode } } }`),
    );
    expect(any.container.withExec.exitCode).toBe(3);
    const failure = await double.query(`{ container { withExec(args: ["true"], expect: FAILURE) { exitCode } } }`);
    expect(failure.errors?.[0]?.message).toMatch(/exit code: 0/);
  });

  it("binds each cache volume at its path and keeps it between execs", async () => {
    const vol = await volumeId("keep-me");
    const q = (n: string) =>
      double.query(
        `query($vol: ID!, $n: String!) { container { withMountedCache(path: "/keep", cache: $vol) { withEnvVariable(name: "N", value: $n) {
          withExec(args: ["sh", "-c", "echo $N >> /keep/log; cat /keep/log | wc -l"]) { stdout } } } } }`,
        { vol, n },
      );
    await q("1");
    const second = ok<{ container: { withMountedCache: { withEnvVariable: { withExec: { stdout: string } } } } }>(await q("2"));
    expect(second.container.withMountedCache.withEnvVariable.withExec.stdout.trim()).toBe("2");
    expect(readFileSync(join(volumeDir(stateDir, "keep-me"), "log"), "utf8")).toBe("1\n2\n");
  });

  it("keeps files an exec writes in the container's own directories, for later execs and file()", async () => {
    const r = ok<{ container: { withWorkdir: { withExec: { withExec: { stdout: string; file: { contents: string } } } } } }>(
      await double.query(`{ container { withWorkdir(path: "/out") { withExec(args: ["sh", "-c", "echo built > artifact"]) {
        withExec(args: ["cat", "artifact"]) { stdout file(path: "artifact") { contents } } } } } }`),
    );
    expect(r.container.withWorkdir.withExec.withExec.stdout).toBe("built\n");
    expect(r.container.withWorkdir.withExec.withExec.file.contents).toBe("built\n");
  });
});

describe("exec cache", () => {
  const counterQuery = `query($vol: ID!, $env: String!) { container { from(address: "alpine:3.20") {
    withMountedCache(path: "/c", cache: $vol, sharing: LOCKED) { withEnvVariable(name: "X", value: $env) {
      withExec(args: ["sh", "-c", "n=$(cat /c/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /c/n; echo $n"]) { stdout } } } } } }`;
  const stdoutOf = (r: { data?: unknown; errors?: { message: string }[] }) =>
    ok<{ container: { from: { withMountedCache: { withEnvVariable: { withExec: { stdout: string } } } } } }>(r).container.from.withMountedCache
      .withEnvVariable.withExec.stdout.trim();

  it("does not run a chain that already ran: the volume's contents are not part of the key", async () => {
    const vol = await volumeId("counter-a");
    const before = execLog(stateDir).length;
    expect(stdoutOf(await double.query(counterQuery, { vol, env: "same" }))).toBe("1");
    // Someone else changes the volume: the cached answer is stale, as on the real engine.
    writeFileSync(join(volumeDir(stateDir, "counter-a"), "n"), "41\n");
    expect(stdoutOf(await double.query(counterQuery, { vol, env: "same" }))).toBe("1");
    // A different input (the documented cache-buster) runs it again and sees the volume.
    expect(stdoutOf(await double.query(counterQuery, { vol, env: "buster-1" }))).toBe("42");
    const lines = execLog(stateDir).slice(before);
    expect(lines.map((l) => l.cached)).toEqual([false, true, false]);
    expect(readFileSync(join(volumeDir(stateDir, "counter-a"), "n"), "utf8")).toBe("42\n");
  });

  it("keys on every input of the chain: image, env, args, workdir, mounts and file contents", async () => {
    const vol = await volumeId("counter-b");
    const otherVol = await volumeId("counter-c");
    const run = (from: string, vol: string, file: string) =>
      double.query(
        `query($vol: ID!, $file: String!) { container { from(address: "${from}") { withMountedCache(path: "/c", cache: $vol) {
          withNewFile(path: "/f", contents: $file) { withExec(args: ["cat", "/f"]) { stdout } } } } } }`,
        { vol, file },
      );
    const before = execLog(stateDir).length;
    ok(await run("alpine:3.20", vol, "one"));
    ok(await run("alpine:3.20", vol, "one"));
    ok(await run("alpine:3.19", vol, "one"));
    ok(await run("alpine:3.20", otherVol, "one"));
    ok(await run("alpine:3.20", vol, "two"));
    expect(execLog(stateDir).slice(before).map((l) => l.cached)).toEqual([false, true, false, false, false]);
  });

  it("does not cache failures", async () => {
    const before = execLog(stateDir).length;
    const q = `{ container { withExec(args: ["sh", "-c", "echo nope >&2; exit 1"]) { stdout } } }`;
    expect((await double.query(q)).errors?.[0]?.message).toMatch(/exit code: 1/);
    expect((await double.query(q)).errors?.[0]?.message).toMatch(/exit code: 1/);
    const lines = execLog(stateDir).slice(before);
    expect(lines.map((l) => [l.cached, l.exitCode])).toEqual([
      [false, 1],
      [false, 1],
    ]);
  });

  it("runs a chain once for several leaf fields in one query", async () => {
    const before = execLog(stateDir).length;
    const r = ok<{ container: { withExec: { stdout: string; stderr: string; exitCode: number } } }>(
      await double.query(`{ container { withExec(args: ["sh", "-c", "echo once-$RANDOM; echo err >&2"]) { stdout stderr exitCode } } }`),
    );
    expect(r.container.withExec.exitCode).toBe(0);
    expect(r.container.withExec.stderr).toBe("err\n");
    const lines = execLog(stateDir).slice(before);
    expect(lines.filter((l) => !l.cached)).toHaveLength(1);
  });

  it("persists the cache for other double processes on the same state dir", async () => {
    const q = `{ container { withExec(args: ["sh", "-c", "echo persisted-$$-$RANDOM"]) { stdout } } }`;
    const first = ok<{ container: { withExec: { stdout: string } } }>(await double.query(q));
    const other = await startEngineDouble({ stateDir, moduleDir: toyModule });
    try {
      const second = ok<{ container: { withExec: { stdout: string } } }>(await other.query(q));
      expect(second.container.withExec.stdout).toBe(first.container.withExec.stdout);
      const last = execLog(stateDir).filter((l) => l.callId === other.callId);
      expect(last.map((l) => l.cached)).toEqual([true]);
    } finally {
      await other.close();
    }
  });
});

describe("secrets and the exec log", () => {
  it("passes secrets as env without writing them anywhere", async () => {
    const plaintext = "s3cr3t-value-that-must-not-leak";
    const secret = ok<{ setSecret: { id: string } }>(
      await double.query(`query($p: String!) { setSecret(name: "token", plaintext: $p) { id } }`, { p: plaintext }),
    ).setSecret.id;
    expect(secret).not.toContain(plaintext);
    const r = ok<{ container: { withSecretVariable: { withExec: { stdout: string } } } }>(
      await double.query(
        `query($s: ID!) { container { withSecretVariable(name: "TOKEN", secret: $s) { withExec(args: ["sh", "-c", "printf %s \\"$TOKEN\\" | wc -c"]) { stdout } } } }`,
        { s: secret },
      ),
    );
    expect(r.container.withSecretVariable.withExec.stdout.trim()).toBe(String(plaintext.length));
    // printed secrets are scrubbed from the output, as the engine does
    const printed = ok<{ container: { withSecretVariable: { withExec: { stdout: string } } } }>(
      await double.query(
        `query($s: ID!) { container { withSecretVariable(name: "TOKEN", secret: $s) { withExec(args: ["sh", "-c", "echo token=$TOKEN"]) { stdout } } } }`,
        { s: secret },
      ),
    );
    expect(printed.container.withSecretVariable.withExec.stdout).toBe("token=***\n");
    const line = execLog(stateDir).at(-1)!;
    expect(line.secretEnv).toEqual(["TOKEN"]);
    expect(line.args).toEqual(["sh", "-c", "echo token=$TOKEN"]);
    const grep = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? grep(join(dir, e.name)) : readFileSync(join(dir, e.name)).includes(plaintext) ? [join(dir, e.name)] : [],
      );
    expect(grep(stateDir)).toEqual([]);
  });

  it("writes one JSON line per exec with its inputs (env names only) and outcome", async () => {
    const vol = await volumeId("logged");
    ok(
      await double.query(
        `query($vol: ID!) { container { from(address: "alpine:3.20") { withEnvVariable(name: "VISIBLE_NAME", value: "hidden-value") {
          withMountedCache(path: "/v", cache: $vol, sharing: PRIVATE) { withWorkdir(path: "/w") { withExec(args: ["sh", "-c", "exit 0"]) { exitCode } } } } } } }`,
        { vol },
      ),
    );
    const line = execLog(stateDir).at(-1)!;
    expect(line).toMatchObject({
      callId: double.callId,
      caller: "client",
      args: ["sh", "-c", "exit 0"],
      image: "alpine:3.20",
      workdir: "/w",
      env: ["VISIBLE_NAME"],
      mounts: [{ path: "/v", type: "cache", volume: "logged", namespace: "mainClient", sharing: "PRIVATE" }],
      cached: false,
      exitCode: 0,
    });
    expect(typeof line.durationMs).toBe("number");
    expect(Date.parse(line.time)).not.toBeNaN();
    expect(JSON.stringify(line)).not.toContain("hidden-value");
  });
});

describe("state dir layout", () => {
  it("keeps cache volumes as plain directories", () => {
    const dir = volumeDir(stateDir, "made-by-test");
    mkdirSync(dir, { recursive: true });
    expect(dir.startsWith(join(stateDir, "volumes"))).toBe(true);
  });
});
