// A separate client process for the locking tests: starts its own engine double on a shared
// state dir and runs one exec that increments a counter kept in a cache volume.
//   tsx counter-client.ts <stateDir> <volume key> <LOCKED|SHARED|PRIVATE> <barrier count>
// With a barrier count > 0, every exec first waits (up to 20 s) until that many execs have
// reached the barrier, so unlocked execs are guaranteed to overlap.
import { startEngineDouble } from "../../../double/index.js";
import { toyModule } from "./env.js";

const [stateDir, key, sharing, barrier] = process.argv.slice(2);
const SCRIPT = [
  'echo "start $(date +%s%N)" >> /counter/intervals',
  'if [ "$BARRIER" -gt 0 ]; then touch "/counter/ready.$BUSTER"; i=0; while [ "$(ls /counter | grep -c "^ready\\.")" -lt "$BARRIER" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; fi',
  "n=$(cat /counter/count 2>/dev/null || echo 0)",
  "sleep 0.3",
  "n=$((n + 1))",
  'echo "$n" > /counter/count',
  'echo "end $(date +%s%N)" >> /counter/intervals',
  'echo "$n"',
].join("\n");

const double = await startEngineDouble({ stateDir, moduleDir: toyModule });
try {
  const vol = await double.query(`query($key: String!) { cacheVolume(key: $key) { id } }`, { key });
  const volId = (vol.data?.["cacheVolume"] as { id: string }).id;
  const r = await double.query(
    `query($vol: ID!, $script: String!, $buster: String!, $barrier: String!) {
      container { from(address: "alpine:3.20") {
        withMountedCache(path: "/counter", cache: $vol, sharing: ${sharing}) {
          withEnvVariable(name: "BUSTER", value: $buster) { withEnvVariable(name: "BARRIER", value: $barrier) {
            withExec(args: ["sh", "-c", $script]) { stdout } } } } } } }`,
    { vol: volId, script: SCRIPT, buster: `${process.pid}-${Date.now()}-${Math.random()}`, barrier: barrier ?? "0" },
  );
  if (r.errors?.length) {
    console.error(JSON.stringify(r.errors));
    process.exitCode = 1;
  } else {
    console.log(JSON.stringify(r.data));
  }
} finally {
  await double.close();
}
