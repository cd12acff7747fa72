import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { volumeDir } from "../../double/index.js";
import { openVolumeStore } from "../soak/helpers/volume-session.js";
import { describeStoreContract } from "./store-contract.js";

// The module's cache-volume store, each request an exec in the engine double: the same
// contract as the memory and Redis stores. Its clock is the state container's, so the suite
// waits for real where it needs time to pass.
describeStoreContract("cache volume through the engine double", async () => {
  const stateDir = mkdtempSync(join(tmpdir(), "circuit-breaker-volume-contract-"));
  const { store, close } = await openVolumeStore(stateDir, "contract");
  return {
    store,
    close,
    async corrupt(breaker: string, text: string) {
      const dir = join(volumeDir(stateDir, "contract"), "breakers");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${breaker}.json`), text);
    },
  };
});
