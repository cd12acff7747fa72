// The `dagger call` stand-in, each call a separate process: help, flag mapping, errors.
import { describe, expect, it } from "vitest";
import { runDaggerCall } from "../../double/index.js";
import { registrationCache, tempStateDir, toyModule } from "./helpers/env.js";

const stateDir = tempStateDir("cli");
const env = { DAGGER_DOUBLE_STATE_DIR: stateDir, DAGGER_DOUBLE_MODULE_CACHE: registrationCache };
const call = (...argv: string[]) => runDaggerCall(["-m", toyModule, ...argv], { env });

describe("dagger-call", () => {
  it("lists functions with descriptions, and a function's arguments", async () => {
    const [none, help, fnHelp] = await Promise.all([call(), call("--help"), call("describe", "--help")]);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^ {2}increment-no-buster +Like increment, but forgets the cache-buster/m);
    expect(none.stdout).toMatch(/^ {2}read-default +Returns the contents of data.txt/m);
    expect(help.stdout).toBe(none.stdout);
    expect(fnHelp.code).toBe(0);
    expect(fnHelp.stdout).toMatch(/Joins a list and shows typed flags/);
    expect(fnHelp.stdout).toMatch(/--items \[String!\] +\(required\)/);
    expect(fnHelp.stdout).toMatch(/--count Int +\(default 1\)/);
    expect(fnHelp.stdout).toMatch(/--verbose Boolean +\(default false\)/);
  }, 60_000);

  it("gives clear errors for unknown functions and flags, exiting non-zero", async () => {
    const [fn, flag, missing, badInt] = await Promise.all([
      call("frobnicate"),
      call("hello", "--nmae", "x"),
      call("describe"),
      call("describe", "--items", "a", "--count", "many"),
    ]);
    expect(fn.code).not.toBe(0);
    expect(fn.stderr).toMatch(/unknown function "frobnicate" for ToyModule \(available: hello, echo/);
    expect(flag.code).not.toBe(0);
    expect(flag.stderr).toMatch(/unknown flag: --nmae for hello \(known flags: --name\)/);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/missing required argument --items/);
    expect(badInt.code).not.toBe(0);
    expect(badInt.stderr).toMatch(/invalid argument "many" for --count: not an integer/);
    expect(fn.stdout + flag.stdout + missing.stdout + badInt.stdout).toBe("");
  }, 60_000);

  it("maps kebab-case flags to typed arguments; a failing call prints its error and exits non-zero", async () => {
    const [list, failed] = await Promise.all([
      call("describe", "--items", "a,b", "--items=c", "--count", "3", "--verbose"),
      call("fail", "--code", "6"),
    ]);
    expect([list.code, list.stdout, list.stderr]).toEqual([0, "a+b+c x3 (verbose)\n", ""]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("");
    expect(failed.stderr).toMatch(/^Error: process "sh -c .*" did not complete successfully: exit code: 6/);
    expect(failed.stderr).toMatch(/about to fail/);
  }, 60_000);
});
