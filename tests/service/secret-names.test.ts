import type { File, Secret } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { execute } from "../../lib/dagger/workflow-actions.js";
import { CallerError } from "../../lib/protection/errors.js";
import { secretNames } from "../../lib/service/secret-names.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";

const VALUE = "s3cr3t-value-never-shown";

/** A Secret as the engine describes it: a URI (empty for setSecret) and a name. */
class FakeSecret {
  plaintextReads = 0;
  described = 0;
  constructor(
    private readonly uriText: string,
    private readonly nameText: string = uriText,
  ) {}
  async uri(): Promise<string> {
    this.described += 1;
    return this.uriText;
  }
  async name(): Promise<string> {
    this.described += 1;
    return this.nameText;
  }
  async plaintext(): Promise<string> {
    this.plaintextReads += 1;
    return VALUE;
  }
}

const asSecret = (s: FakeSecret) => s as unknown as Secret;

describe("secret env names taken from the secrets when --secret-names is not given", () => {
  it.each([
    ["env://DEPLOY_TOKEN", "x", "DEPLOY_TOKEN"], // the Dagger CLI's --secrets=env:DEPLOY_TOKEN
    ["env:API_KEY", "env:API_KEY", "API_KEY"], // as the engine double reports it
    ["", "REGISTRY_PASSWORD", "REGISTRY_PASSWORD"], // dag.setSecret("REGISTRY_PASSWORD", …)
  ])("uri %j, name %j -> %s, without reading the value", async (uri, name, expected) => {
    const secret = new FakeSecret(uri, name);
    expect(await secretNames([], [secret])).toEqual([expected]);
    expect(secret.plaintextReads).toBe(0);
  });

  it("keeps --secret-names when given, without asking the secrets anything", async () => {
    const secret = new FakeSecret("file:///run/token");
    expect(await secretNames(["TOKEN"], [secret])).toEqual(["TOKEN"]);
    expect(secret.described).toBe(0);
  });

  it.each([
    ["file:///home/me/.token", "", "secret 2 of 2 in --secrets is a file: secret, so its env name cannot be taken from its URI"],
    ["vault://kv/deploy?field=token", "", "secret 2 of 2 in --secrets is a vault: secret, so its env name cannot be taken from its URI"],
    ["env://my-token", "", "secret 2 of 2 in --secrets is an env: secret whose variable name is not a valid env name for a step"],
    ["", "deploy token", "secret 2 of 2 in --secrets has a name that is not a valid env name, so it cannot be used as one"],
  ])("asks for --secret-names when uri %j / name %j cannot be an env name", async (uri, name, start) => {
    const secrets = [new FakeSecret("env://FIRST"), new FakeSecret(uri, name)];
    const failure = await secretNames([], secrets).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CallerError);
    const message = (failure as Error).message;
    expect(message).toBe(
      `${start}: pass --secret-names with one env name per secret, in the same order (e.g. --secret-names DEPLOY_TOKEN --secrets file:./token)`,
    );
    // Neither the value nor the rest of the URI or name, which could carry more than a name.
    for (const part of [VALUE, ".token", "kv/deploy", "my-token", "deploy token"]) expect(message).not.toContain(part);
    expect(secrets.every((s) => s.plaintextReads === 0)).toBe(true);
  });
});

describe("execute with --secrets alone", () => {
  const config = {
    name: async () => "dagger.yaml",
    contents: async () => `
workflows:
  deploy:
    breaker: staging-api
    steps:
      - { name: push, image: alpine, secrets: [DEPLOY_TOKEN], command: [sh, -c, deploy] }
`,
  } as unknown as File;
  const args = (secrets: FakeSecret[]) => ({
    workflow: "deploy",
    config,
    params: [],
    secretNames: [],
    secrets: secrets.map(asSecret),
    source: null,
    overrides: {},
  });

  it("gives a step the secret it declares, named from the URI", async () => {
    // With the breaker tripped nothing runs, so the call stops right after the secrets are paired.
    const store = new MemoryStateStore();
    await store.apply({ op: "trip", breaker: "staging-api", policy: null, durationMs: null });
    const outcome = await execute(store, args([new FakeSecret("env://DEPLOY_TOKEN")]));
    expect(outcome.rejection?.message).toMatch(/^circuit breaker "staging-api" was tripped by hand/);
  });

  it("asks for --secret-names for a secret it cannot name, before the breaker is asked", async () => {
    const store = new MemoryStateStore();
    await expect(execute(store, args([new FakeSecret("file:///run/token")]))).rejects.toThrow(
      "secret 1 of 1 in --secrets is a file: secret, so its env name cannot be taken from its URI: pass --secret-names",
    );
    expect(store.texts.size).toBe(0);
  });

  it("names a declared secret that no URI provides", async () => {
    await expect(execute(new MemoryStateStore(), args([new FakeSecret("env://OTHER_TOKEN")]))).rejects.toThrow(
      'workflow "deploy" step "push" needs secret DEPLOY_TOKEN: pass it, e.g. --secrets env:DEPLOY_TOKEN (when you give --secret-names, list DEPLOY_TOKEN there too, at the secret\'s position)',
    );
  });
});
