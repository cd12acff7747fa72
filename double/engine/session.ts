// What a GraphQL request runs in: the session that sent it (the client, or one module function
// call), the engine it reaches, and the function calls in flight. Shared by the server, its
// resolvers and the module runtimes, and importing none of them.
import type { GraphQLSchema } from "graphql";
import type { Engine } from "./engine.js";
import type { HostServices } from "./host-services.js";
import type { Deferred } from "../util.js";
import type { Val } from "./values.js";

export interface FunctionCallCtx {
  id: string;
  moduleName: string;
  parentName: string;
  name: string;
  /** JSON text of the parent object's state. */
  parent: string;
  inputArgs: { name: string; value: string }[];
  result: Deferred<string>;
}

export interface Session {
  kind: "client" | "function";
  /** For the exec log: "client" or "Object.function". */
  caller: string;
  /** Cache volume namespace: "mainClient" for the client, mod(<name><source root>) inside a module. */
  namespace: string;
  call?: FunctionCallCtx;
  /** A module's function call with dependencies: their types extend the schema this session sees. */
  scope?: SchemaScope;
}

export interface ResolverEnv {
  engine: Engine;
  /** Tunnels to services on the host, started by `Service.start`/`endpoint`. */
  services: HostServices;
  calls: Map<string, FunctionCallCtx>;
}

export interface Ctx {
  session: Session;
  env: ResolverEnv;
}

/** A field served by something other than the core resolvers (a dependency's function). */
export type FieldResolver = (source: Val, args: Record<string, unknown>, ctx: Ctx) => unknown;

/** A schema wider than the core one, and the resolvers of what it adds (a module's dependencies). */
export interface SchemaScope {
  readonly schema: GraphQLSchema;
  resolver(typeName: string, fieldName: string): FieldResolver | undefined;
}

/** A module function's error, with the values the engine attaches to it. */
export class FunctionError extends Error {
  constructor(
    message: string,
    readonly values: { name: string; value: string }[],
  ) {
    super(message);
  }
}
