import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { DEFAULT_LIMITS, type ServerLimits } from '../../core/limits/limits.ts';

/**
 * Server configuration in three layers: embedded defaults < TOML file
 * (`--config FILE` or `PULSE_CONFIG`) < environment (`PULSE_<SECTION>_<KEY>`).
 * Any unknown key or ill-typed value stops the start with a ConfigError naming it.
 */
export interface ServerConfig {
  readonly server: {
    readonly host: string;
    readonly port: number;
    /**
     * Proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed on
     * WebSocket upgrades; the client is the last address not in this list.
     */
    readonly trustedProxies: readonly string[];
    /** Connections that have not authenticated yet, over all transports... */
    readonly maxUnauthenticated: number;
    /** ...and from one address (IPv4, or IPv6 /64). */
    readonly maxUnauthenticatedPerIp: number;
    /** Bytes of frames received in part (a frame not complete yet), over all connections. */
    readonly partialFrameBytes: number;
  };
  readonly transport: {
    readonly websocket: boolean;
    readonly webtransport: boolean;
    readonly webtransportPort: number;
  };
  readonly limits: ServerLimits;
  readonly heartbeat: { readonly interval: number; readonly timeout: number };
  /** `maxWritesInFlight`: writes handed to the SQLite writer thread and not answered yet, at most (README "Limits"). */
  readonly storage: { readonly path: string; readonly maxWritesInFlight: number };
  /** `tokenKeys`: the token key file (empty: `token-keys` in the data directory). */
  readonly auth: { readonly tokenKeys: string };
  /**
   * Sealed sender (PROTOCOL.md "Sealed sender"): `keys`, the file of the trust root and the
   * server key (empty: `sealed-sender-keys` beside the token key file); `certificateTtl`, how
   * long a sender certificate is valid (ms).
   */
  readonly sealedSender: { readonly keys: string; readonly certificateTtl: number };
  /** The QUIC listener's own bounds (HTTP/3 WebTransport): see README "QUIC". */
  readonly quic: {
    readonly maxConnections: number;
    readonly maxHandshakes: number;
    readonly maxHandshakesPerSource: number;
    readonly handshakeTimeout: number;
    readonly retryAbove: number;
  };
  /** The metrics listener: /metrics (and /healthz), apart from the client port. */
  readonly metrics: { readonly host: string; readonly port: number; readonly token: string };
  readonly tls: { readonly cert: string; readonly key: string };
  readonly web: { readonly root: string; readonly entry: string };
  readonly log: { readonly level: string };
  /**
   * Cluster mode (README "Cluster mode"): with NATS URLs, all shared state lives
   * in NATS JetStream instead of SQLite; `replicas` copies of the stream and KV
   * buckets (3 on a 3-server NATS cluster: writes are acknowledged by a quorum).
   * `subjectKey`: the secret every node shares that keys the hashes in NATS subject
   * names (devices, channels); empty: a built-in key, which hides names only from
   * someone who does not guess them.
   */
  readonly cluster: { readonly nats: readonly string[]; readonly replicas: number; readonly subjectKey: string };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** `section.key` (or the file) the error is about. */
  readonly key: string;
  constructor(key: string, message: string) {
    super(`config ${key}: ${message}`);
    this.key = key;
  }
}

type Kind = 'string' | 'port' | 'uint' | 'positive' | 'bool' | 'level' | 'addresses' | 'nats_urls';

/** Every accepted key: section → snake_case key → [camelCase field, kind]. */
const SCHEMA: Record<string, Record<string, Kind>> = {
  server: {
    host: 'string',
    port: 'port',
    trusted_proxies: 'addresses',
    max_unauthenticated: 'positive',
    max_unauthenticated_per_ip: 'positive',
    partial_frame_bytes: 'positive',
  },
  transport: { websocket: 'bool', webtransport: 'bool', webtransport_port: 'port' },
  limits: Object.fromEntries(Object.keys(DEFAULT_LIMITS).map((name) => [snake(name), 'positive' as Kind])),
  heartbeat: { interval: 'positive', timeout: 'positive' },
  storage: { path: 'string', max_writes_in_flight: 'positive' },
  auth: { token_keys: 'string' },
  sealed_sender: { keys: 'string', certificate_ttl: 'positive' },
  quic: {
    max_connections: 'positive',
    max_handshakes: 'positive',
    max_handshakes_per_source: 'positive',
    handshake_timeout: 'positive',
    retry_above: 'uint',
  },
  metrics: { host: 'string', port: 'port', token: 'string' },
  tls: { cert: 'string', key: 'string' },
  web: { root: 'string', entry: 'string' },
  log: { level: 'level' },
  cluster: { nats: 'nats_urls', replicas: 'positive', subject_key: 'string' },
};

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..', '..');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const DEFAULT_CONFIG: ServerConfig = {
  server: {
    host: '127.0.0.1',
    port: 8080,
    trustedProxies: [],
    maxUnauthenticated: 1_000,
    maxUnauthenticatedPerIp: 10,
    partialFrameBytes: 64 * 1024 * 1024,
  },
  transport: { websocket: true, webtransport: true, webtransportPort: 8443 },
  limits: DEFAULT_LIMITS,
  heartbeat: { interval: 15_000, timeout: 45_000 },
  storage: { path: './data', maxWritesInFlight: 1_024 },
  auth: { tokenKeys: '' },
  sealedSender: { keys: '', certificateTtl: 24 * 60 * 60 * 1000 },
  quic: {
    maxConnections: 10_000,
    maxHandshakes: 1_000,
    maxHandshakesPerSource: 10,
    handshakeTimeout: 5_000,
    retryAbove: 100,
  },
  metrics: { host: '127.0.0.1', port: 9464, token: '' },
  tls: { cert: '', key: '' },
  // The web client's defaults are relative to the repository root, wherever the server starts.
  web: { root: join(REPO_ROOT, 'clients/web/public'), entry: join(REPO_ROOT, 'clients/web/src/main.ts') },
  log: { level: 'info' },
  cluster: { nats: [], replicas: 1, subjectKey: '' },
};

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** An IP address or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
function isAddressOrRange(text: string): boolean {
  const [address = '', bits, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** `nats://host:port` or `tls://host:port`. */
function isNatsUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'nats:' || url.protocol === 'tls:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function coerce(key: string, kind: Kind, value: unknown, fromEnv: boolean): ConfigValue {
  if (kind === 'nats_urls') {
    // One URL or a list (TOML); from the environment: a comma-separated list.
    const text = typeof value === 'string' ? value.split(',').map((item) => item.trim()) : value;
    const list = Array.isArray(text) ? text.filter((item) => item !== '') : text;
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string' && isNatsUrl(item))) {
      throw new ConfigError(key, 'expected a nats://HOST:PORT URL or a list of them');
    }
    return Object.freeze([...(list as string[])]);
  }
  if (kind === 'addresses') {
    // From the environment: a comma-separated list.
    const list = fromEnv && typeof value === 'string' ? value.split(',').filter((item) => item.trim() !== '') : value;
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string' && isAddressOrRange(item.trim()))) {
      throw new ConfigError(key, 'expected a list of IP addresses or CIDR ranges');
    }
    return Object.freeze(list.map((item: string) => item.trim()));
  }
  if (fromEnv && typeof value === 'string') {
    if (kind === 'bool') {
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw new ConfigError(key, `expected true or false, got ${JSON.stringify(value)}`);
    }
    if (kind !== 'string' && kind !== 'level') {
      if (!/^\d+$/.test(value)) throw new ConfigError(key, `expected an integer, got ${JSON.stringify(value)}`);
      value = Number(value);
    }
  }
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') throw new ConfigError(key, `expected a string, got ${typeof value}`);
      return value;
    case 'level':
      if (typeof value !== 'string' || !LOG_LEVELS.includes(value))
        throw new ConfigError(key, `expected one of ${LOG_LEVELS.join(', ')}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw new ConfigError(key, `expected true or false, got ${typeof value}`);
      return value;
    case 'port':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65_535)
        throw new ConfigError(key, `expected a port number 0..65535, got ${JSON.stringify(value)}`);
      return value;
    case 'uint':
    case 'positive': {
      const min = kind === 'positive' ? 1 : 0;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
        throw new ConfigError(key, `expected an integer >= ${min}, got ${JSON.stringify(value)}`);
      return value;
    }
  }
}

type ConfigValue = string | number | boolean | readonly string[];
type Mutable = Record<string, Record<string, unknown>>;

function apply(target: Mutable, given: string, key: string, value: unknown, fromEnv: boolean, where: string): void {
  // Sections are snake_case in files and the environment (`sealed_sender`), camelCase in ServerConfig.
  const section = snake(given);
  const kinds = SCHEMA[section];
  if (kinds === undefined) throw new ConfigError(`${where}${section}`, 'unknown section');
  const kind = kinds[key];
  if (kind === undefined) throw new ConfigError(`${where}${section}.${key}`, 'unknown key');
  const sectionValues = target[camel(section)]!;
  sectionValues[camel(key)] = coerce(`${where}${section}.${key}`, kind, value, fromEnv);
}

export interface LoadOptions {
  /** Path of a TOML file; absent: `env.PULSE_CONFIG`, else none. */
  readonly file?: string | undefined;
  /** Environment (defaults to process.env). */
  readonly env?: Record<string, string | undefined>;
  /** Already-parsed overrides applied last (tests). */
  readonly overrides?: Record<string, Record<string, unknown>>;
}

/** Builds the configuration from the three layers; throws ConfigError. */
export function loadConfig(options: LoadOptions = {}): ServerConfig {
  const env = options.env ?? process.env;
  const config: Mutable = {};
  for (const [section, values] of Object.entries(DEFAULT_CONFIG)) config[section] = { ...values };

  const file = options.file ?? env.PULSE_CONFIG;
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new ConfigError(file, `cannot read the file: ${(cause as Error).message}`);
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = parseToml(text);
    } catch (cause) {
      throw new ConfigError(file, `not valid TOML: ${(cause as Error).message}`);
    }
    for (const [section, values] of Object.entries(parsed)) {
      if (typeof values !== 'object' || values === null || Array.isArray(values) || values instanceof Date) {
        throw new ConfigError(section, 'expected a [section] table');
      }
      for (const [key, value] of Object.entries(values)) apply(config, section, key, value, false, '');
    }
  }

  // PULSE_<SECTION>_<KEY>: only known sections are ours; PULSE_CONFIG and other
  // tools' PULSE_* variables are left alone.
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('PULSE_') || value === undefined) continue;
    const rest = name.slice('PULSE_'.length).toLowerCase();
    const section = Object.keys(SCHEMA).find((s) => rest.startsWith(`${s}_`));
    if (section === undefined) continue;
    apply(config, section, rest.slice(section.length + 1), value, true, `${name} → `);
  }

  for (const [section, values] of Object.entries(options.overrides ?? {})) {
    for (const [key, value] of Object.entries(values)) apply(config, section, snake(key), value, false, '');
  }

  const result = config as unknown as ServerConfig;
  if (result.heartbeat.timeout <= result.heartbeat.interval) {
    throw new ConfigError('heartbeat.timeout', 'must be greater than heartbeat.interval');
  }
  if (result.cluster.replicas > 5) {
    throw new ConfigError('cluster.replicas', 'JetStream keeps at most 5 replicas');
  }
  if (result.limits.maxMessageSize >= result.limits.maxFrameBytes) {
    throw new ConfigError('limits.max_message_size', 'must be smaller than limits.max_frame_bytes');
  }
  return result;
}
