import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { withDevelopmentServices } from './development-services.ts';
import { optionForEnvName } from './env-names.ts';
import { type Config, checkConfig, configSchema, secretPaths } from './schema.ts';

/** Raised when the configuration cannot be used; lists every problem at once. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** Folder holding default.yaml and <env>.yaml. */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra layer applied after every file and before the environment (tests use it). */
  overrides?: Record<string, unknown>;
  /**
   * The port the server is listening on, once known (after listening on port 0): it becomes
   * `server.port`, and with it the default `server.publicUrl` and what derives from that.
   */
  listenPort?: number;
}

type Tree = Record<string, unknown>;

const ENV_PREFIX = 'KEYWARDEN_';

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge where later layers win; arrays are replaced, not concatenated. */
function merge(base: Tree, layer: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    const current = out[key];
    out[key] = isTree(current) && isTree(value) ? merge(current, value) : value;
  }
  return out;
}

function setPath(tree: Tree, keys: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (!isTree(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]!] = value;
}

function getPath(tree: Tree, keys: readonly string[]): unknown {
  let node: unknown = tree;
  for (const key of keys) {
    if (!isTree(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** `PORT` is read as YAML, so `8080` is a number (as any numeric option's variable is). */
function parseEnvValue(raw: string): unknown {
  const trimmed = raw.trim();
  if (trimmed === '') return '';
  try {
    return parseYaml(trimmed);
  } catch {
    return raw;
  }
}

function readYamlFile(file: string, problems: string[]): Tree {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    problems.push(`${file}: ${(error as Error).message.split('\n')[0]}`);
    return {};
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isTree(parsed)) {
    problems.push(`${file}: expected a mapping at the top level`);
    return {};
  }
  return parsed;
}

/** `redis://user:secret@host`: the URL carries a secret even though its path is not a secret path. */
function urlHoldsPassword(value: unknown): boolean {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  return new URL(value).password !== '';
}

/** Expand `a.*.b` secret patterns into the concrete paths present in a tree. */
function concretePaths(tree: Tree, pattern: readonly string[], prefix: string[] = []): string[][] {
  if (pattern.length === 0) return [prefix];
  const [head, ...rest] = pattern as [string, ...string[]];
  if (head === '*') {
    return isTree(tree)
      ? Object.entries(tree).flatMap(([key, value]) =>
          isTree(value)
            ? concretePaths(value, rest, [...prefix, key])
            : rest.length === 0
              ? [[...prefix, key]]
              : [],
        )
      : [];
  }
  const next = tree[head];
  if (rest.length === 0) return next === undefined ? [] : [[...prefix, head]];
  return isTree(next) ? concretePaths(next, rest, [...prefix, head]) : [];
}

/**
 * Reads the environment layer. `KEYWARDEN_A__B_C=v` sets `a.bC`; `KEYWARDEN_A__B_FILE=/p`
 * sets `a.b` from the content of /p (Kubernetes secrets); the exact rule, including names
 * that end in `_FILE` themselves, is in env-names.ts. `PORT` and `REDIS_URL` are the usual
 * shortcuts; `REDIS_URL` also selects the redis store.
 */
export function readEnvLayer(env: NodeJS.ProcessEnv, problems: string[]): Tree {
  const layer: Tree = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined || name === 'KEYWARDEN_CONFIG') continue;
    const option = optionForEnvName(configSchema, name.slice(ENV_PREFIX.length));
    let text = raw;
    if (option.fromFile) {
      try {
        text = readFileSync(raw, 'utf8');
      } catch (error) {
        problems.push(`${name}: cannot read ${raw} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
        continue;
      }
    }
    if (option.path.length > 0) setPath(layer, option.path, option.read(text));
  }
  if (env.PORT !== undefined) setPath(layer, ['server', 'port'], parseEnvValue(env.PORT));
  if (env.REDIS_URL) {
    setPath(layer, ['store', 'kind'], 'redis');
    setPath(layer, ['store', 'redis', 'url'], env.REDIS_URL);
  }
  return layer;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${[...issue.path, key].join('.')}: unknown option`).join('\n  - ');
  }
  return `${where}: ${issue.message}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Builds the configuration once: default.yaml → <NODE_ENV>.yaml → $KEYWARDEN_CONFIG →
 * overrides → environment, then what the development services derive (development-services.ts).
 * Throws ConfigError listing every problem.
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const configDir = options.configDir ?? path.resolve(import.meta.dirname, '../../config');
  const problems: string[] = [];
  const nodeEnv = env.NODE_ENV ?? 'development';
  const isProduction = nodeEnv === 'production';

  const files = [path.join(configDir, 'default.yaml'), path.join(configDir, `${nodeEnv}.yaml`)].filter(
    (file) => existsSync(file),
  );
  if (env.KEYWARDEN_CONFIG) {
    if (existsSync(env.KEYWARDEN_CONFIG)) files.push(env.KEYWARDEN_CONFIG);
    else problems.push(`KEYWARDEN_CONFIG: no file at ${env.KEYWARDEN_CONFIG}`);
  }

  let merged: Tree = {};
  for (const file of files) {
    const layer = readYamlFile(file, problems);
    if (isProduction) {
      for (const pattern of secretPaths) {
        for (const found of concretePaths(layer, pattern.split('.'))) {
          problems.push(
            `${found.join('.')}: a secret must come from the environment or a *_FILE variable, not ${file}`,
          );
        }
      }
      if (urlHoldsPassword(getPath(layer, ['store', 'redis', 'url']))) {
        problems.push(
          `store.redis.url: a password inside the URL is a secret; use KEYWARDEN_STORE__REDIS__PASSWORD(_FILE) or REDIS_URL, not ${file}`,
        );
      }
    }
    merged = merge(merged, layer);
  }
  if (options.overrides) merged = merge(merged, options.overrides);
  merged = merge(merged, readEnvLayer(env, problems));
  if (options.listenPort !== undefined) setPath(merged, ['server', 'port'], options.listenPort);
  if ('env' in merged && getPath(merged, ['env']) !== nodeEnv) {
    problems.push('env: set NODE_ENV instead of env in a config file');
  }
  merged.env = nodeEnv;

  const result = configSchema.superRefine(checkConfig).transform(withDevelopmentServices).safeParse(merged);
  if (!result.success) problems.push(...result.error.issues.map(formatIssue));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return deepFreeze(result.data);
}
