// The double's GraphQL endpoint: node:http on 127.0.0.1, random port, `POST /query` with
// `Authorization: Basic base64(<token>:)` exactly as the SDK client sends it. Every query
// is parsed and validated against the real schema before anything runs; fields without
// a resolver fail loudly instead of returning something plausible.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  execute,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  type GraphQLTypeResolver,
} from "graphql";
import { resolvers } from "./resolvers.js";
import type { Ctx, ResolverEnv, Session } from "./session.js";
import { loadSchema } from "./schema.js";
import { randomHex } from "../util.js";
import { typeNameOf, type Val } from "./values.js";

export interface QueryResult {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown>; path?: readonly (string | number)[] }[];
}

export class DoubleServer {
  readonly schema: GraphQLSchema;
  private server: Server | undefined;
  private sessions = new Map<string, Session>();
  /** Every `Type.field` a query asked for that the double does not implement. */
  readonly unimplemented = new Set<string>();
  port = 0;

  constructor(
    readonly env: ResolverEnv,
    schemaPath?: string,
  ) {
    this.schema = loadSchema(schemaPath);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        ({ status, body }) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(body);
        },
        (e: unknown) => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ errors: [{ message: `engine double: internal error: ${String(e)}` }] }));
        },
      );
    });
    // Execs can take long and clients keep sockets alive between queries: never time
    // a connection out (an idle keep-alive socket closed under a client that is about to
    // reuse it shows up in the SDK as "socket hang up").
    this.server.keepAliveTimeout = 0;
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** A new random token for a client or a function call; requests carry it. */
  openSession(session: Session): string {
    const token = randomHex(24);
    this.sessions.set(token, session);
    return token;
  }

  closeSession(token: string): void {
    this.sessions.delete(token);
  }

  /** Run a query in-process (same validation and resolvers as over HTTP). */
  async run(query: string, session: Session, variables?: Record<string, unknown>): Promise<QueryResult> {
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (e) {
      return { errors: [{ message: (e as GraphQLError).message, extensions: { code: "GRAPHQL_PARSE_FAILED" } }] };
    }
    // A module with dependencies sees the core API extended with their types; everyone else the core API.
    const schema = session.scope?.schema ?? this.schema;
    const invalid = validate(schema, document);
    if (invalid.length > 0) {
      return {
        errors: invalid.map((e) => ({
          message: `${e.message} (engine double: the query does not validate against the Dagger API schema)`,
          extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
        })),
      };
    }
    const ctx: Ctx = { session, env: this.env };
    const result = await execute({
      schema,
      document,
      rootValue: { t: "Query" } satisfies Val,
      contextValue: ctx,
      variableValues: variables,
      fieldResolver: this.fieldResolver,
      typeResolver: typeResolver,
    });
    const out: QueryResult = { data: (result.data as Record<string, unknown> | null | undefined) ?? null };
    if (result.errors?.length) {
      out.errors = result.errors.map((e) => {
        const err: NonNullable<QueryResult["errors"]>[number] = { message: e.message };
        if (e.extensions && Object.keys(e.extensions).length) err.extensions = e.extensions as Record<string, unknown>;
        if (e.path) err.path = e.path;
        return err;
      });
    }
    return out;
  }

  private fieldResolver: GraphQLFieldResolver<Val, Ctx> = (source, args, ctx, info) => {
    const typeName = info.parentType.name;
    const fromDependency = ctx.session.scope?.resolver(typeName, info.fieldName);
    if (fromDependency) return fromDependency(source, args as Record<string, unknown>, ctx);
    const forType = Object.hasOwn(resolvers, typeName) ? resolvers[typeName] : undefined;
    const resolver = forType && Object.hasOwn(forType, info.fieldName) ? forType[info.fieldName] : undefined;
    if (!resolver) {
      const what = `${typeName}.${info.fieldName}`;
      if (!this.unimplemented.has(what)) {
        this.unimplemented.add(what);
        process.stderr.write(`engine double: ${what} is not implemented\n`);
      }
      throw new GraphQLError(`engine double: ${what} is not implemented`, {
        extensions: { code: "NOT_IMPLEMENTED_IN_DOUBLE" },
      });
    }
    return resolver(source, args as Record<string, unknown>, ctx, info);
  };

  private async handle(req: IncomingMessage): Promise<{ status: number; body: string }> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/query") return { status: 404, body: JSON.stringify({ errors: [{ message: "not found" }] }) };
    const session = this.authenticate(req.headers.authorization);
    if (!session) {
      req.resume();
      return { status: 401, body: JSON.stringify({ errors: [{ message: "engine double: missing or wrong session token" }] }) };
    }
    let payload: { query?: string; variables?: Record<string, unknown> };
    if (req.method === "GET") {
      payload = { query: url.searchParams.get("query") ?? undefined };
    } else if (req.method === "POST") {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof payload;
      } catch {
        return { status: 400, body: JSON.stringify({ errors: [{ message: "engine double: body is not JSON" }] }) };
      }
    } else {
      return { status: 405, body: JSON.stringify({ errors: [{ message: "method not allowed" }] }) };
    }
    if (typeof payload.query !== "string") {
      return { status: 400, body: JSON.stringify({ errors: [{ message: "engine double: no query" }] }) };
    }
    const result = await this.run(payload.query, session, payload.variables ?? undefined);
    return { status: 200, body: JSON.stringify(result) };
  }

  private authenticate(header: string | undefined): Session | undefined {
    if (!header?.startsWith("Basic ")) return undefined;
    const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
    const token = decoded.endsWith(":") ? decoded.slice(0, -1) : decoded.split(":")[0] ?? "";
    return this.sessions.get(token);
  }
}

const typeResolver: GraphQLTypeResolver<Val, Ctx> = (value) => typeNameOf(value);
