import { connection, dag } from "@dagger.io/dagger";
import { startEngineDouble } from "../../../double/index.js";
import { stateExecOn } from "../../../lib/store/volume/state-exec.js";
import { VolumeStateStore } from "../../../lib/store/volume/volume-store.js";

/**
 * Runs `fn` with the module's real cache-volume store, talking through the SDK's client to an
 * engine double on `stateDir`: the same execs `dagger call` would cause, without a module process.
 */
export async function withVolumeStore<T>(stateDir: string, volume: string, fn: (store: VolumeStateStore) => Promise<T>): Promise<T> {
  const double = await startEngineDouble({ stateDir, moduleDir: process.cwd() });
  const saved = { port: process.env.DAGGER_SESSION_PORT, token: process.env.DAGGER_SESSION_TOKEN };
  process.env.DAGGER_SESSION_PORT = String(double.port);
  process.env.DAGGER_SESSION_TOKEN = double.token;
  try {
    let result: T | undefined;
    await connection(async () => {
      result = await fn(new VolumeStateStore(stateExecOn(dag.cacheVolume(volume)), volume));
    });
    return result as T;
  } finally {
    process.env.DAGGER_SESSION_PORT = saved.port;
    process.env.DAGGER_SESSION_TOKEN = saved.token;
    if (saved.port === undefined) delete process.env.DAGGER_SESSION_PORT;
    if (saved.token === undefined) delete process.env.DAGGER_SESSION_TOKEN;
    await double.close();
  }
}

/** The same store held open until `close`, for suites that make a store per test. */
export async function openVolumeStore(stateDir: string, volume: string): Promise<{ store: VolumeStateStore; close(): Promise<void> }> {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let opened: (store: VolumeStateStore) => void = () => {};
  const store = new Promise<VolumeStateStore>((resolve) => (opened = resolve));
  const session = withVolumeStore(stateDir, volume, async (s) => {
    opened(s);
    await released;
  });
  const result = await Promise.race([store, session.then(() => Promise.reject(new Error("the session ended before the store opened")))]);
  return {
    store: result,
    close: async () => {
      release();
      await session;
    },
  };
}
