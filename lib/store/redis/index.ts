export { RedisStateStore } from "./redis-store.js";
export { DEFAULT_PREFIX, DEFAULT_TIMEOUT_MS, type FailurePolicy, type RedisAddress, type RedisStoreOptions } from "./options.js";
export { RedisAuthError, RedisConflictError, RedisStoreClosedError, RedisUnavailableError } from "./errors.js";
export { isUnrecordedPermit, UNRECORDED_PERMIT_PREFIX } from "./fail-open.js";
export type { RedisStoreStats } from "./stats.js";
