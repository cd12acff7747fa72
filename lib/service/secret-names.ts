import { CallerError } from "../protection/errors.js";

/** What a secret says about itself (the SDK's `Secret` has both); its value is never asked for. */
export interface DescribedSecret {
  uri(): Promise<string>;
  name(): Promise<string>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `env://NAME` from the CLI's `--secrets=env:NAME`, or `env:NAME` as the engine double reports it. */
const ENV_URI = /^env:(?:\/\/)?(.*)$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * The env names for `--secrets` when `--secret-names` is not given: each taken from its
 * secret's `env:` URI, or from a `setSecret` name that is a valid env name. Anything else
 * (file:, a vault, another name) cannot be named safely, so the caller is asked to name it.
 * Errors name the secret by position and kind only: a URI or name could carry more than a name.
 */
export async function secretNames(names: string[], secrets: DescribedSecret[]): Promise<string[]> {
  if (names.length > 0 || secrets.length === 0) return names;
  return Promise.all(secrets.map((secret, i) => nameOf(secret, i, secrets.length)));
}

async function nameOf(secret: DescribedSecret, index: number, count: number): Promise<string> {
  const which = `secret ${index + 1} of ${count} in --secrets`;
  const fix = "pass --secret-names with one env name per secret, in the same order (e.g. --secret-names DEPLOY_TOKEN --secrets file:./token)";
  const uri = await secret.uri();
  const fromEnv = ENV_URI.exec(uri);
  if (fromEnv) {
    if (ENV_NAME.test(fromEnv[1] ?? "")) return fromEnv[1] as string;
    throw new CallerError(`${which} is an env: secret whose variable name is not a valid env name for a step: ${fix}`);
  }
  const scheme = SCHEME.exec(uri)?.[1];
  if (scheme !== undefined) {
    throw new CallerError(`${which} is a ${scheme}: secret, so its env name cannot be taken from its URI: ${fix}`);
  }
  // No URI scheme: a secret made with setSecret, known by its name.
  const name = await secret.name();
  const fromName = ENV_URI.exec(name)?.[1] ?? name;
  if (ENV_NAME.test(fromName)) return fromName;
  throw new CallerError(`${which} has a name that is not a valid env name, so it cannot be used as one: ${fix}`);
}
