// The values the engine double hands out. Every object is an immutable value; its ID is
// the value itself, encoded (`dbl1.<Type>.<base64url JSON>`), so an ID can travel between
// processes (the module's process, the CLI, tests) and be decoded by any double sharing
// the same state dir (file contents live in the state dir's content-addressed blob store).

/** A secret reference. The plaintext never appears in an ID, a cache key or the log. */
export interface SecretRef {
  name: string;
  /** Where the plaintext lives in the double process that created the secret. */
  handle: string;
  /** HMAC of name + plaintext under the state dir's key: identifies the value for caching. */
  digest: string;
}

export interface VolumeRef {
  /** "" for volumes created by the client (CLI, tests); the module name inside a module. */
  namespace: string;
  key: string;
  sharing?: string;
}

/** A container is its operation chain; evaluating it runs (or reuses) its execs. */
export type ContainerOp =
  | { op: "from"; address: string }
  | { op: "env"; name: string; value: string; expand?: boolean }
  | { op: "unsetEnv"; name: string }
  | { op: "secretEnv"; name: string; secret: SecretRef }
  | { op: "unsetSecretEnv"; name: string }
  | { op: "workdir"; path: string }
  | { op: "cache"; path: string; volume: VolumeRef; sharing: string; source?: string }
  | { op: "mountDir"; path: string; manifest: string; readOnly: boolean }
  | { op: "mountFile"; path: string; blob: string; mode: number }
  | { op: "mountSecret"; path: string; secret: SecretRef; mode: number }
  | { op: "mountTemp"; path: string }
  | { op: "unmount"; path: string }
  | { op: "file"; path: string; blob: string; mode: number }
  | { op: "dir"; path: string; manifest: string }
  | { op: "rm"; path: string }
  | { op: "entrypoint"; args: string[] }
  | { op: "defaultArgs"; args: string[] }
  | { op: "user"; name: string }
  | { op: "label"; name: string; value: string }
  | {
      op: "exec";
      args: string[];
      expect: string;
      stdin: string;
      redirectStdout: string;
      redirectStderr: string;
      useEntrypoint: boolean;
    };

export interface TypeDefV {
  kind: string;
  optional: boolean;
  name?: string;
  description?: string;
  object?: ObjectTypeDefV;
  list?: { elementType: TypeDefV };
  enum?: { name: string; description: string; members: EnumMemberV[] };
  interface?: { name: string; description: string; functions: FunctionV[] };
  scalar?: { name: string; description: string };
}

export interface ObjectTypeDefV {
  name: string;
  description: string;
  deprecated?: string;
  functions: FunctionV[];
  fields: FieldV[];
  ctor?: FunctionV;
  sourceMap?: SourceMapV;
}

export interface FieldV {
  name: string;
  typeDef: TypeDefV;
  description: string;
  deprecated?: string;
}

export interface EnumMemberV {
  name: string;
  value: string;
  description: string;
  deprecated?: string;
}

export interface FunctionV {
  name: string;
  returnType: TypeDefV;
  description: string;
  args: FunctionArgV[];
  cachePolicy?: string;
  timeToLive?: string;
  deprecated?: string;
  check?: boolean;
  generator?: boolean;
  up?: boolean;
  sourceMap?: SourceMapV;
}

export interface FunctionArgV {
  name: string;
  typeDef: TypeDefV;
  description: string;
  /** JSON text, as registered. */
  defaultValue?: string;
  defaultPath: string;
  defaultAddress: string;
  ignore: string[];
  deprecated?: string;
}

export interface SourceMapV {
  filename: string;
  line: number;
  column: number;
}

export interface ModuleV {
  description: string;
  objects: TypeDefV[];
  enums: TypeDefV[];
  interfaces: TypeDefV[];
}

/** A port of a service from the host: what the session sees (frontend) and where it goes (backend). */
export interface ServicePort {
  frontend: number;
  backend: number;
  protocol: "TCP" | "UDP";
}

/** Every value the double's GraphQL resolvers pass around, tagged with its GraphQL type. */
export type Val =
  | { t: "Query" }
  | { t: "Container"; ops: ContainerOp[] }
  | { t: "File"; name: string; blob: string; mode: number }
  | { t: "Directory"; manifest: string }
  | { t: "CacheVolume"; volume: VolumeRef }
  | { t: "Secret"; secret: SecretRef }
  | { t: "Service"; host: string; ports: ServicePort[] }
  | { t: "Error"; message: string; values: { name: string; value: string }[] }
  | { t: "ErrorValue"; name: string; value: string }
  | { t: "SourceMap"; map: SourceMapV }
  | { t: "TypeDef"; def: TypeDefV }
  | { t: "ObjectTypeDef"; def: ObjectTypeDefV }
  | { t: "ListTypeDef"; def: { elementType: TypeDefV } }
  | { t: "FieldTypeDef"; def: FieldV }
  | { t: "Function"; def: FunctionV }
  | { t: "FunctionArg"; def: FunctionArgV }
  | { t: "Module"; def: ModuleV }
  | { t: "FunctionCall"; call: string }
  | { t: "FunctionCallArgValue"; name: string; value: string }
  | { t: "CurrentModule"; name: string }
  /**
   * An object of a module dependency (e.g. a `CircuitBreakerWorkflowRun` returned by a
   * dependency's function): its GraphQL type name, the dependency (its name in the dependent
   * module's dagger.json), the object's own name in that module, and its state (the fields'
   * JSON, as the dependency's SDK returned it).
   */
  | { t: "ModuleObject"; type: string; module: string; object: string; state: Record<string, unknown> };

export type ValOf<T extends Val["t"]> = Extract<Val, { t: T }>;

const PREFIX = "dbl1.";

/** The GraphQL type of a value: its tag, or for a module object its (namespaced) type name. */
export function typeNameOf(val: Val): string {
  return val.t === "ModuleObject" ? val.type : val.t;
}

export function encodeId(val: Val): string {
  return `${PREFIX}${typeNameOf(val)}.${Buffer.from(JSON.stringify(val)).toString("base64url")}`;
}

export function isDoubleId(text: string): boolean {
  return text.startsWith(PREFIX);
}

export function decodeId(id: string, expected?: string): Val {
  if (!isDoubleId(id)) {
    throw new Error(`engine double: ${JSON.stringify(id.slice(0, 80))} is not an ID issued by the engine double`);
  }
  const rest = id.slice(PREFIX.length);
  const dot = rest.indexOf(".");
  const type = rest.slice(0, dot);
  if (expected && type !== expected) {
    throw new Error(`engine double: expected a ${expected} ID, got a ${type} ID`);
  }
  let val: Val;
  try {
    val = JSON.parse(Buffer.from(rest.slice(dot + 1), "base64url").toString("utf8")) as Val;
  } catch {
    throw new Error(`engine double: malformed ${type} ID`);
  }
  if (!val || typeof val !== "object" || typeNameOf(val) !== type) throw new Error(`engine double: malformed ${type} ID`);
  return val;
}

export function typeDefToString(def: TypeDefV): string {
  let s: string;
  switch (def.kind) {
    case "STRING_KIND":
      s = "String";
      break;
    case "INTEGER_KIND":
      s = "Int";
      break;
    case "FLOAT_KIND":
      s = "Float";
      break;
    case "BOOLEAN_KIND":
      s = "Boolean";
      break;
    case "VOID_KIND":
      s = "Void";
      break;
    case "LIST_KIND":
      s = `[${def.list ? typeDefToString(def.list.elementType) : "?"}]`;
      break;
    default:
      s = def.object?.name ?? def.enum?.name ?? def.interface?.name ?? def.scalar?.name ?? def.name ?? def.kind;
  }
  return def.optional ? s : `${s}!`;
}
