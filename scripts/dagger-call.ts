// `dagger call` stand-in backed by the engine double (double/): `npm run dagger-call -- <function> [--flag value ...] [field]`.
// State (cache volumes, exec and function caches, exec log) lives in $DAGGER_DOUBLE_STATE_DIR (default ./.dagger-double).
import { runCli } from "../double/cli/cli.js";

const code = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  cwd: process.cwd(),
});
// Flush stdout before leaving; exit explicitly so no stray handle keeps the process alive.
process.stdout.write("", () => process.exit(code));
