import { handleRequest } from "../lib/store/directory/state-directory.js";
import { parseRequest } from "../lib/store/request.js";

/**
 * The program the state container runs: one request in (env CB_REQUEST), one JSON response
 * out. Its clock is the container's, read while the volume lock is held.
 */
const dir = process.env.CB_STATE_DIR ?? "/state";
const text = process.env.CB_REQUEST;
if (!text) {
  process.stderr.write("circuit-breaker state-op: CB_REQUEST is not set\n");
  process.exit(2);
}
try {
  process.stdout.write(JSON.stringify(handleRequest(dir, parseRequest(text), Date.now())));
} catch (e) {
  process.stderr.write(`circuit-breaker state-op: ${(e as Error).message}\n`);
  process.exit(3);
}
