import { MemoryStateStore } from "../../lib/store/memory-store.js";
import { describeStoreContract } from "./store-contract.js";

describeStoreContract("memory", async () => {
  let now = Date.now();
  const store = new MemoryStateStore(() => now);
  return {
    store,
    setNow: (ms) => {
      now = ms;
    },
    close: async () => undefined,
    corrupt: async (breaker, text) => {
      store.texts.set(breaker, text);
    },
  };
});
