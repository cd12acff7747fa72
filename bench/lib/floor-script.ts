/**
 * The floor for a state operation on a directory: one `node` process that reads a counter,
 * writes it back through a temporary file and a rename. Run under `flock`, with COUNTER_FILE set.
 * Both store benchmarks measure against this same program.
 */
export const FLOOR_SCRIPT = [
  `const fs = require("node:fs");`,
  `const file = process.env.COUNTER_FILE;`,
  `let n = 0;`,
  `try { n = Number(fs.readFileSync(file, "utf8")); } catch (e) { if (e.code !== "ENOENT") throw e; }`,
  `const temp = file + "." + process.pid + ".tmp";`,
  `const fd = fs.openSync(temp, "w", 0o644);`,
  `try { fs.writeSync(fd, String(n + 1)); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }`,
  `fs.renameSync(temp, file);`,
].join("\n");
