var __defProp = Object.defineProperty;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};

// src/connect/redact.ts
import { parse } from "pg-connection-string";
function redact(text, secrets = []) {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 3) out = out.split(secret).join("***");
  }
  return out.replace(URL_IN_TEXT, (url) => redactUrl(url)).replace(/((?:^|[?&\s])password=)[^&\s]*/gi, "$1***");
}
function redactUrl(url) {
  const scheme = SCHEME.exec(url)?.[0];
  if (!scheme) return url.includes("@") ? `***${url.slice(url.lastIndexOf("@"))}` : url;
  const rest = url.slice(scheme.length);
  const at = rest.lastIndexOf("@");
  const masked = (text) => text.replace(/((?:^|[?&])password=)[^&#]*/gi, "$1***");
  if (at === -1) return scheme + masked(rest);
  const userInfo = rest.slice(0, at);
  const host = masked(rest.slice(at + 1));
  try {
    parseQuietly(url);
  } catch {
    return scheme + host;
  }
  const colon = userInfo.indexOf(":");
  if (colon === -1) return PLAIN_USER.test(userInfo) ? `${scheme}${userInfo}@${host}` : scheme + host;
  const user = userInfo.slice(0, colon);
  return PLAIN_USER.test(user) ? `${scheme}${user}:***@${host}` : `${scheme}***@${host}`;
}
function assertUnambiguousUrl(url) {
  const scheme = SCHEME.exec(url)?.[0];
  if (!scheme) return;
  const rest = url.slice(scheme.length);
  const end = rest.search(/[/?#]/);
  if (end === -1) return;
  const after = rest.slice(end);
  const at = after.indexOf("@");
  if (at === -1) return;
  const equals = after.indexOf("=");
  if (equals !== -1 && equals < at) return;
  throw Object.assign(
    new TypeError(
      "the URL cannot be read: its password seems to contain a raw /, ? or # (percent-encode them: %2F, %3F, %23)"
    ),
    { code: "ERR_INVALID_URL" }
  );
}
function urlSecrets(url) {
  const found = /* @__PURE__ */ new Set();
  try {
    found.add(parseQuietly(url).password ?? "");
  } catch {
  }
  const authority = (/^[a-z][a-z0-9+.-]*:\/\/(.*)@/is.exec(url.trim()) ?? /^(.*)@/s.exec(url.trim()))?.[1];
  const colon = authority?.indexOf(":") ?? -1;
  if (authority && colon !== -1) {
    const raw = authority.slice(colon + 1);
    found.add(raw).add(safeDecode(raw));
  }
  return [...found].filter((s) => s.length > 0);
}
function parseQuietly(url) {
  const query = url.indexOf("?", url.lastIndexOf("@") + 1);
  if (query === -1) return parse(url);
  const hash = url.indexOf("#", query);
  const end = hash === -1 ? url.length : hash;
  const kept = url.slice(query + 1, end).split("&").filter((pair) => !TLS_PARAMETERS.includes(safeDecode(pair.split("=")[0]).toLowerCase()));
  return parse(`${url.slice(0, query)}${kept.length > 0 ? `?${kept.join("&")}` : ""}${url.slice(end)}`);
}
function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
var TLS_PARAMETERS, URL_IN_TEXT, SCHEME, PLAIN_USER;
var init_redact = __esm({
  "src/connect/redact.ts"() {
    "use strict";
    TLS_PARAMETERS = [
      "sslmode",
      "sslrootcert",
      "sslcert",
      "sslkey",
      "sslpassword",
      "ssl",
      "uselibpqcompat",
      "channel_binding"
    ];
    URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
    SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
    PLAIN_USER = /^[^:/?#@\s]+$/;
  }
});

// src/connect/embedded-settings.ts
import { resolve } from "node:path";
function embeddedDataDir(env = process.env) {
  return resolve(env["WUKONG_PGLITE_DIR"] ?? ".wukong/pglite");
}
function embeddedBusyTimeoutMs(busyTimeoutMs, env = process.env) {
  if (busyTimeoutMs !== void 0) return busyTimeoutMs;
  const text = env["WUKONG_PGLITE_BUSY_TIMEOUT_MS"];
  if (text === void 0 || text === "") return DEFAULT_BUSY_TIMEOUT_MS;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new RangeError(`WUKONG_PGLITE_BUSY_TIMEOUT_MS must be a whole number of milliseconds, got "${text}"`);
  }
  return Number(text);
}
var DEFAULT_BUSY_TIMEOUT_MS;
var init_embedded_settings = __esm({
  "src/connect/embedded-settings.ts"() {
    "use strict";
    DEFAULT_BUSY_TIMEOUT_MS = 1e4;
  }
});

// src/errors/migration-error.ts
function formatMessage(reason, { file, line, column, sqlState }) {
  const where = file === void 0 ? "" : line === void 0 ? `${file}: ` : `${file}:${line}:${column ?? 1}: `;
  return `${where}${reason}${sqlState === void 0 ? "" : ` (SQLSTATE ${sqlState})`}`;
}
function connectionFailedReason(props) {
  const shown = props.url ? ` (${props.url})` : "";
  const what = props.lost ? "lost the connection to the database" : "cannot connect to the database";
  return `${what} from ${props.where}${shown}: ${props.reason}`;
}
var MigrationError;
var init_migration_error = __esm({
  "src/errors/migration-error.ts"() {
    "use strict";
    MigrationError = class extends Error {
      name = "MigrationError";
      code;
      file;
      line;
      column;
      /** What went wrong, without the location or the SQLSTATE. */
      reason;
      sqlState;
      constructor(code2, reason, context = {}) {
        super(formatMessage(reason, context), context.cause === void 0 ? void 0 : { cause: context.cause });
        this.code = code2;
        this.reason = reason;
        this.file = context.file;
        this.line = context.line;
        this.column = context.column;
        this.sqlState = context.sqlState;
      }
    };
  }
});

// src/errors/sql-state.ts
function errorCode(error) {
  const code2 = error?.code;
  return typeof code2 === "string" ? code2 : void 0;
}
function sqlStateOf(error) {
  const code2 = errorCode(error);
  return code2 !== void 0 && /^[0-9A-Z]{5}$/.test(code2) ? code2 : void 0;
}
function connectionFailureKind(error) {
  const code2 = errorCode(error);
  if (code2 !== void 0) return FAILURE_KINDS.get(code2);
  const message = error instanceof Error ? error.message : "";
  if (/^(timeout expired|Connection terminated due to connection timeout|no answer within)/.test(message))
    return "timeout";
  return /^SASL: .*password must be a string/.test(message) ? "credentials" : void 0;
}
function isLostConnection(error) {
  const code2 = errorCode(error) ?? String(error?.message);
  return /^(57P|08)|ECONNRESET|EPIPE|Connection terminated|not queryable|Client has encountered a connection error/i.test(
    code2
  );
}
var SQLSTATE, FAILURE_KINDS;
var init_sql_state = __esm({
  "src/errors/sql-state.ts"() {
    "use strict";
    SQLSTATE = Object.freeze({
      LEDGER_INTEGRITY: "WKL01",
      UNIQUE_VIOLATION: "23505",
      READ_ONLY_SQL_TRANSACTION: "25006",
      IN_FAILED_SQL_TRANSACTION: "25P02",
      INVALID_AUTHORIZATION_SPECIFICATION: "28000",
      INVALID_PASSWORD: "28P01",
      INVALID_CATALOG_NAME: "3D000",
      SERIALIZATION_FAILURE: "40001",
      DEADLOCK_DETECTED: "40P01",
      INSUFFICIENT_PRIVILEGE: "42501",
      UNDEFINED_COLUMN: "42703",
      UNDEFINED_TABLE: "42P01",
      DUPLICATE_DATABASE: "42P04",
      OBJECT_IN_USE: "55006",
      LOCK_NOT_AVAILABLE: "55P03",
      QUERY_CANCELED: "57014",
      ADMIN_SHUTDOWN: "57P01",
      CRASH_SHUTDOWN: "57P02",
      CANNOT_CONNECT_NOW: "57P03",
      FEATURE_NOT_SUPPORTED: "0A000",
      UNDEFINED_FILE: "58P01"
    });
    FAILURE_KINDS = /* @__PURE__ */ new Map([
      [SQLSTATE.INVALID_PASSWORD, "credentials"],
      [SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION, "no-role"],
      [SQLSTATE.INVALID_CATALOG_NAME, "no-database"],
      ["ECONNREFUSED", "refused"],
      ["ENOTFOUND", "unknown-host"],
      ["EAI_AGAIN", "unknown-host"],
      ["ETIMEDOUT", "timeout"]
    ]);
  }
});

// src/errors/index.ts
var init_errors = __esm({
  "src/errors/index.ts"() {
    "use strict";
    init_migration_error();
    init_sql_state();
  }
});

// src/connect/resolve-database-url.ts
function resolveDatabaseUrl(url, env = process.env, order = DATABASE_URL_VARIABLES) {
  if (url !== void 0 && !url.trim()) throw new MigrationError("NO_DATABASE_URL", "the url option is empty");
  if (url) return Object.freeze({ url, source: "option" });
  for (const name of order) {
    const value = env[name];
    if (value?.trim()) return Object.freeze({ url: value, source: name });
  }
  const empty = order.filter((name) => env[name] !== void 0);
  if (empty.length)
    throw new MigrationError(
      "NO_DATABASE_URL",
      `${empty.join(", ")} ${empty.length > 1 ? "are" : "is"} set but empty, so no server can be reached; the embedded database is used only when none is set (or when asked for: embedded: true, wukong-migrate --embedded)`
    );
  return Object.freeze({ source: "embedded" });
}
function productionSignals(env = process.env) {
  const signals = [];
  if (env["NODE_ENV"] === "production") signals.push("NODE_ENV=production");
  if (env["VERCEL_ENV"]) signals.push(`VERCEL_ENV=${env["VERCEL_ENV"]}`);
  if (env["VERCEL"] === "1") signals.push("VERCEL=1");
  return signals;
}
var DATABASE_URL_VARIABLES, POOLED_FIRST_URL_VARIABLES;
var init_resolve_database_url = __esm({
  "src/connect/resolve-database-url.ts"() {
    "use strict";
    init_errors();
    DATABASE_URL_VARIABLES = [
      "POSTGRES_URL_NON_POOLING",
      "DATABASE_URL_UNPOOLED",
      "POSTGRES_URL",
      "POSTGRES_PRISMA_URL",
      "DATABASE_URL"
    ];
    POOLED_FIRST_URL_VARIABLES = [
      "POSTGRES_URL",
      "POSTGRES_PRISMA_URL",
      "POSTGRES_URL_NON_POOLING",
      "DATABASE_URL",
      "DATABASE_URL_UNPOOLED"
    ];
  }
});

// src/cli/exit-codes.ts
var EXIT;
var init_exit_codes = __esm({
  "src/cli/exit-codes.ts"() {
    "use strict";
    EXIT = Object.freeze({
      OK: 0,
      FAILED: 1,
      USAGE: 2,
      /** `status --check` found work, `diff` found differences, `lint` found findings at `--fail-on`. */
      NOT_UP_TO_DATE: 3,
      /** Interrupted by SIGINT (Ctrl-C) after the running statement was canceled: 128 + 2. */
      INTERRUPTED: 130,
      /** Stopped by SIGTERM after the running statement was canceled: 128 + 15. */
      TERMINATED: 143
    });
  }
});

// src/runner/migration-run-error.ts
var MigrationRunError;
var init_migration_run_error = __esm({
  "src/runner/migration-run-error.ts"() {
    "use strict";
    init_migration_error();
    MigrationRunError = class extends MigrationError {
      name = "MigrationRunError";
      results;
      cause;
      constructor(cause, results) {
        super(cause.code, cause.reason, {
          file: cause.file,
          line: cause.line,
          column: cause.column,
          sqlState: cause.sqlState,
          cause
        });
        this.cause = cause;
        this.results = results;
      }
    };
  }
});

// src/connect/guard-connection-errors.ts
function guardConnectionErrors(target) {
  target.on("error", ignore);
  target.on("connect", (client) => client?.on("error", ignore));
  return target;
}
var ignore;
var init_guard_connection_errors = __esm({
  "src/connect/guard-connection-errors.ts"() {
    "use strict";
    ignore = () => {
    };
  }
});

// src/connect/guarded-pool.ts
import pg from "pg";
var SOCKET_CLOSE_TIMEOUT_MS, GuardedPool;
var init_guarded_pool = __esm({
  "src/connect/guarded-pool.ts"() {
    "use strict";
    init_guard_connection_errors();
    SOCKET_CLOSE_TIMEOUT_MS = 5e3;
    GuardedPool = class extends pg.Pool {
      #open = /* @__PURE__ */ new Set();
      #whenClosed = [];
      constructor(config) {
        super(config);
        guardConnectionErrors(this);
        this.on("connect", (client) => this.#open.add(client));
        this.on("remove", (client) => {
          this.#open.delete(client);
          if (this.#open.size === 0) for (const resolve5 of this.#whenClosed.splice(0)) resolve5();
        });
      }
      /** Destroys every socket at once, so queries stuck on a peer that stopped answering fail now. */
      sever() {
        for (const client of this.#open)
          client.connection?.stream?.destroy();
      }
      end(callback) {
        const ended = super.end().then(() => this.#socketsClosed());
        if (!callback) return ended;
        ended.then(callback, callback);
      }
      #socketsClosed() {
        if (this.#open.size === 0) return Promise.resolve();
        return new Promise((resolve5) => {
          const timer = setTimeout(resolve5, SOCKET_CLOSE_TIMEOUT_MS);
          this.#whenClosed.push(() => {
            clearTimeout(timer);
            resolve5();
          });
        });
      }
    };
  }
});

// src/connect/pg-config.ts
import { readFileSync as readFileSync2 } from "node:fs";
import { Socket } from "node:net";
import pg2 from "pg";
function tlsFromUrl(url) {
  const params = new URL(url).searchParams;
  const rootCert = params.get("sslrootcert") ?? void 0;
  const system = rootCert === "system";
  const legacy = params.get("ssl");
  let mode = params.get("sslmode");
  if (system) mode = "verify-full";
  if (!mode) {
    if (legacy === "true" || legacy === "1") mode = "verify-full";
    else if (rootCert || params.get("sslcert")) mode = "verify-full";
    else return false;
  }
  if (mode === "disable" || mode === "allow") return false;
  const options = {};
  if (rootCert && !system) options.ca = readFileSync2(rootCert, "utf8");
  const cert = params.get("sslcert");
  const key = params.get("sslkey");
  if (cert) options.cert = readFileSync2(cert, "utf8");
  if (key) options.key = readFileSync2(key, "utf8");
  const passphrase = params.get("sslpassword");
  if (passphrase) options.passphrase = passphrase;
  switch (mode) {
    case "prefer":
    case "no-verify":
      return { ...options, rejectUnauthorized: false };
    case "require":
      return rootCert && !system ? { ...options, rejectUnauthorized: true, checkServerIdentity: () => void 0 } : { ...options, rejectUnauthorized: false };
    case "verify-ca":
      return { ...options, rejectUnauthorized: true, checkServerIdentity: () => void 0 };
    case "verify-full":
      return { ...options, rejectUnauthorized: true };
    default:
      throw new Error(
        `unknown sslmode "${String(mode)}" (expected disable, allow, prefer, require, verify-ca or verify-full)`
      );
  }
}
function connectTimeoutOf(url, fallbackMs) {
  let raw;
  try {
    raw = new URL(url).searchParams.get("connect_timeout");
  } catch {
    return fallbackMs;
  }
  if (raw === null || raw.trim() === "" || !/^\s*-?\d+\s*$/.test(raw)) return fallbackMs;
  const seconds = Number.parseInt(raw, 10);
  return seconds <= 0 ? 0 : Math.max(2, seconds) * 1e3;
}
function pgPoolConfig(url, options = {}) {
  const fromUrl = tlsFromUrl(url);
  const ssl = mergeTls(fromUrl, options.ssl);
  const stripped = new URL(url);
  const params = stripped.searchParams;
  const mode = options.ssl === false ? void 0 : params.get("sslmode");
  const fallback = mode === "prefer" ? PreferTlsClient : mode === "allow" ? allowTlsClient(preferredTls(url, options.ssl)) : void 0;
  const channelBinding = params.get("channel_binding");
  for (const name of TLS_PARAMETERS) params.delete(name);
  params.delete("pgbouncer");
  return {
    connectionString: stripped.toString(),
    ssl,
    ...fallback ? { Client: fallback } : {},
    ...channelBinding === "require" || channelBinding === "prefer" ? { enableChannelBinding: true } : {},
    max: options.max ?? 10,
    connectionTimeoutMillis: connectTimeoutOf(url, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    ...options.applicationName ? { application_name: options.applicationName } : {},
    ...options.sessionLockTimeoutMs === void 0 ? {} : { options: `-c lock_timeout=${Math.max(0, Math.trunc(options.sessionLockTimeoutMs))}` }
  };
}
function mergeTls(fromUrl, explicit) {
  if (explicit === void 0) return fromUrl;
  if (explicit === false) return false;
  if (explicit === true) return fromUrl === false ? true : fromUrl;
  return { ...typeof fromUrl === "object" ? fromUrl : {}, ...explicit };
}
function preferredTls(url, explicit) {
  const u = new URL(url);
  u.searchParams.set("sslmode", "prefer");
  const merged = mergeTls(tlsFromUrl(u.toString()), explicit);
  return typeof merged === "object" ? merged : { rejectUnauthorized: false };
}
function allowTlsClient(tls) {
  return class AllowTlsClient extends pg2.Client {
    constructor(config) {
      super(config);
      const client = this;
      const connection = this.connection;
      const connect = connection.connect.bind(connection);
      const emit = connection.emit.bind(connection);
      let target;
      let settled = false;
      connection.connect = (port, host) => {
        target = [port, host];
        connect(port, host);
      };
      connection.emit = (event, ...args2) => {
        if (event === "authenticationOk") settled = true;
        if (event !== "errorMessage" || settled || !target) return emit(event, ...args2);
        settled = true;
        const refused = connection.stream;
        refused.removeAllListeners();
        refused.on("error", () => {
        });
        refused.destroy();
        connection.stream = new Socket();
        connection.ssl = tls;
        client.ssl = tls;
        connect(...target);
        return true;
      };
    }
  };
}
var DEFAULT_CONNECT_TIMEOUT_MS, KEEPALIVE_INITIAL_DELAY_MS, NO_TLS, PreferTlsClient;
var init_pg_config = __esm({
  "src/connect/pg-config.ts"() {
    "use strict";
    init_redact();
    DEFAULT_CONNECT_TIMEOUT_MS = 3e4;
    KEEPALIVE_INITIAL_DELAY_MS = 1e4;
    NO_TLS = 78;
    PreferTlsClient = class extends pg2.Client {
      constructor(config) {
        super(config);
        const connection = this.connection;
        const connect = connection.connect.bind(connection);
        connection.connect = (port, host) => {
          connect(port, host);
          const stream = connection.stream;
          const [answer] = stream.rawListeners("data");
          if (!answer) return;
          stream.removeListener("data", answer);
          stream.once("data", (buffer) => {
            if (buffer.length !== 1 || buffer[0] !== NO_TLS) return answer.call(stream, buffer);
            connection.ssl = false;
            connection.attachListeners(stream);
            connection.emit("sslconnect");
          });
        };
      }
    };
  }
});

// src/connect/pooled-url.ts
function isPooledUrl(url, options = {}) {
  if (options.pooled !== void 0) return options.pooled;
  if (!url) return false;
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const labels = parsed.hostname.toLowerCase().split(".");
  if (labels.some((label) => label === "pooler" || label.endsWith("-pooler"))) return true;
  if (parsed.searchParams.get("pgbouncer")?.toLowerCase() === "true") return true;
  return parsed.port !== "" && POOLER_PORTS.includes(Number(parsed.port));
}
var POOLER_PORTS;
var init_pooled_url = __esm({
  "src/connect/pooled-url.ts"() {
    "use strict";
    POOLER_PORTS = [6432, 6543];
  }
});

// src/provider/sql-text.ts
import { createHash } from "node:crypto";
function decodeSqlFile(bytes, file) {
  let raw;
  try {
    raw = UTF8.decode(bytes);
  } catch (cause) {
    const at = firstInvalidUtf8Byte(bytes);
    const { line, column } = lineColumnOfByte(bytes, at);
    throw new MigrationError(
      "INVALID_UTF8",
      `the file is not valid UTF-8 (bad byte 0x${bytes[at]?.toString(16).padStart(2, "0")} at byte ${at}); save it as UTF-8`,
      { file, line, column, cause }
    );
  }
  const text = (raw.startsWith(BOM) ? raw.slice(1) : raw).replace(/\r\n/g, "\n");
  const nul = text.indexOf("\0");
  if (nul !== -1) {
    const at = lineColumnAt(text, nul);
    const message = `the file contains a NUL byte, which PostgreSQL cannot accept in SQL text`;
    throw new MigrationError("NUL_BYTE", message, { file, ...at });
  }
  return text;
}
function sqlChecksum(text) {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
function nextLineBreak(text, from) {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return i;
  }
  return -1;
}
function lineColumnAt(text, offset) {
  return lineColumnFinder(text)(offset);
}
function lineColumnFinder(text) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
  }
  return (offset) => {
    const end = Math.max(0, Math.min(offset, text.length));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = lo + hi + 1 >> 1;
      if (starts[mid] <= end) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: end - starts[lo] + 1 };
  };
}
function lineOf(text, line) {
  return text.split(LINE_BREAK)[line - 1] ?? "";
}
function byteToCharOffsets(text) {
  if (isAscii(text)) return (byteOffset) => byteOffset;
  const bytes = Buffer.from(text, "utf8");
  let lastByte = 0;
  let lastChar = 0;
  return (byteOffset) => {
    if (byteOffset < lastByte) {
      lastByte = 0;
      lastChar = 0;
    }
    lastChar += bytes.subarray(lastByte, byteOffset).toString("utf8").length;
    lastByte = byteOffset;
    return lastChar;
  };
}
function indexOfCodePoint(text, codePoints) {
  let index = 0;
  for (let n = 0; n < codePoints && index < text.length; n++) {
    const unit = text.charCodeAt(index);
    index += unit >= 55296 && unit <= 56319 && index + 1 < text.length ? 2 : 1;
  }
  return index;
}
function firstInvalidUtf8Byte(bytes) {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const width = b < 128 ? 1 : b >= 194 && b < 224 ? 2 : b >= 224 && b < 240 ? 3 : b >= 240 && b < 245 ? 4 : 0;
    if (width === 0) return i;
    try {
      UTF8.decode(bytes.subarray(i, i + width));
    } catch {
      return i;
    }
    i += width;
  }
  return bytes.length;
}
function lineColumnOfByte(bytes, byteOffset) {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < byteOffset; i++) {
    if (bytes[i] === 10 || bytes[i] === 13 && bytes[i + 1] !== 10) {
      line++;
      lineStart = i + 1;
    }
  }
  const prefix = new TextDecoder("utf-8").decode(bytes.subarray(lineStart, byteOffset));
  return { line, column: prefix.length + 1 };
}
function isAscii(text) {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 127) return false;
  return true;
}
function quoteIdent(name) {
  return `"${name.replace(/"/g, '""')}"`;
}
function literal(value) {
  return `'${value.replace(/'/g, "''")}'`;
}
var UTF8, BOM, LINE_BREAK;
var init_sql_text = __esm({
  "src/provider/sql-text.ts"() {
    "use strict";
    init_migration_error();
    UTF8 = new TextDecoder("utf-8", { fatal: true });
    BOM = "\uFEFF";
    LINE_BREAK = /\r\n|\r|\n/;
  }
});

// src/provider/ledger-names.ts
function ledgerHome(schema) {
  const q = quoteIdent(schema);
  return Object.freeze({
    schema,
    ledger: `${q}.schema_versions`,
    kysely: `${q}.kysely_migration`,
    lock: `${q}.kysely_migration_lock`
  });
}
var LEDGER_TABLES, DEFAULT_LEDGER_SCHEMA, SET_MARK;
var init_ledger_names = __esm({
  "src/provider/ledger-names.ts"() {
    "use strict";
    init_sql_text();
    LEDGER_TABLES = Object.freeze([
      "schema_versions",
      "kysely_migration",
      "kysely_migration_lock"
    ]);
    DEFAULT_LEDGER_SCHEMA = "public";
    SET_MARK = "wukong-migrate: the ledger of the migration set in this schema";
  }
});

// src/provider/ledger-row.ts
function toLedgerRow(row2) {
  const date = (v) => typeof v === "string" ? new Date(v) : null;
  return Object.freeze({
    version: Number(row2["version"]),
    description: String(row2["description"] ?? ""),
    appliedAt: date(row2["applied_at"]),
    checksum: row2["checksum"] ?? null,
    fileName: row2["file_name"] ?? null,
    executionMs: row2["execution_ms"] ?? null,
    adoptedAt: date(row2["adopted_at"]),
    atomic: row2["atomic"] ?? null
  });
}
var init_ledger_row = __esm({
  "src/provider/ledger-row.ts"() {
    "use strict";
  }
});

// src/provider/migration-plan.ts
function planMigrations(files, snapshot, options = {}) {
  const rows = new Map(snapshot.rows.map((r) => [r.version, r]));
  const kysely = new Set(snapshot.kysely.map((k) => k.name));
  const byVersion = new Map(files.map((f) => [f.version, f]));
  const highest = snapshot.rows.length ? Math.max(...snapshot.rows.map((r) => r.version)) : null;
  const applied = [];
  const pending = [];
  const drifted = [];
  const renamed = [];
  for (const file of [...files].sort((a, b) => a.version - b.version)) {
    const row2 = rows.get(file.version);
    if (!row2) {
      pending.push(
        Object.freeze({ version: file.version, name: file.name, fileName: file.fileName, statements: 0, atomic: true })
      );
      continue;
    }
    if (row2.checksum !== null && row2.checksum !== file.checksum) {
      drifted.push(
        Object.freeze({
          version: file.version,
          fileName: file.fileName,
          appliedChecksum: row2.checksum,
          fileChecksum: file.checksum
        })
      );
    }
    const kyselyName = snapshot.kysely.find((k) => versionOf(k.name) === file.version && k.name !== file.name)?.name;
    const appliedFileName = row2.fileName ?? (kyselyName ? `${kyselyName}.sql` : null);
    if (appliedFileName !== null && appliedFileName !== file.fileName) {
      renamed.push(Object.freeze({ version: file.version, appliedFileName, fileName: file.fileName }));
    }
    applied.push(
      Object.freeze({
        version: file.version,
        name: file.name,
        fileName: file.fileName,
        description: row2.description,
        appliedAt: row2.appliedAt,
        checksumMatches: row2.checksum === null ? null : row2.checksum === file.checksum,
        adopted: row2.checksum === null || row2.adoptedAt !== null,
        executionMs: row2.executionMs,
        atomic: row2.atomic ?? true,
        recordedByKysely: kysely.has(file.name)
      })
    );
  }
  const missing = snapshot.rows.filter((r) => !byVersion.has(r.version)).map((r) => Object.freeze({ version: r.version, fileName: r.fileName, description: r.description }));
  for (const { name } of snapshot.kysely) {
    const version = versionOf(name);
    if (files.some((f) => f.name === name) || version !== void 0 && (byVersion.has(version) || rows.has(version)))
      continue;
    missing.push(Object.freeze({ version: version ?? -1, fileName: `${name}.sql`, description: "" }));
  }
  missing.sort((a, b) => a.version - b.version);
  const outOfOrder = highest === null ? [] : pending.filter((p) => p.version < highest);
  const status = {
    currentVersion: highest,
    applied,
    pending,
    drifted,
    missing,
    renamed,
    outOfOrder,
    adopted: applied.filter((a) => a.adopted),
    ledgerSchema: snapshot.home.schema,
    otherSets: snapshot.otherSets,
    isUpToDate: snapshot.complete && pending.length + drifted.length + missing.length + renamed.length === 0 && applied.every((a) => a.recordedByKysely && a.checksumMatches === true) && kysely.size === applied.length
  };
  return Object.freeze({
    ...status,
    refusal: refusalOf(files, snapshot, status, options.allowDrift ?? false)
  });
}
function planSteps(files, status, target) {
  const byVersion = new Map(status.applied.map((a) => [a.version, a]));
  const current = status.currentVersion;
  const down = target.direction === "down" || target.direction === "to" && current !== null && (target.to === 0 || (target.to ?? current) < current);
  if (status.refusal && !(down && status.refusal.code === "OUT_OF_ORDER")) throw status.refusal;
  if (!down) {
    const to2 = target.to ?? Number.POSITIVE_INFINITY;
    return [...files].sort((a, b) => a.version - b.version).filter((f) => f.version <= to2).flatMap((file) => {
      const a = byVersion.get(file.version);
      if (!a) return [{ file, action: "apply" }];
      if (a.checksumMatches === null) return [{ file, action: "adopt" }];
      return a.recordedByKysely ? [] : [{ file, action: "heal" }];
    });
  }
  const to = target.to;
  const reverted = [...files].filter((f) => byVersion.has(f.version) && (to === void 0 ? f.version === current : f.version > to || to === 0)).sort((a, b) => b.version - a.version);
  const without = reverted.filter((f) => !f.down);
  if (without.length) {
    throw new MigrationError(
      "NO_DOWN_FILE",
      `cannot revert ${without.map((f) => f.fileName).join(", ")}: no .down.sql file (write ${without.map((f) => `${f.name}.down.sql`).join(", ")})`,
      { file: without[0].fileName }
    );
  }
  return reverted.map((file) => ({ file, action: "revert" }));
}
function versionOf(name) {
  const digits = /^(\d+)_/.exec(name)?.[1];
  return digits === void 0 ? void 0 : Number(digits);
}
function refusalOf(files, snapshot, status, allowDrift) {
  if (snapshot.shapeProblem) return new MigrationError("LEDGER_SHAPE", `${snapshot.shapeProblem}; nothing was run`);
  const tooLarge = files.find((f) => f.version > snapshot.maxVersion);
  if (tooLarge) {
    return new MigrationError(
      "VERSION_OUT_OF_RANGE",
      `version ${tooLarge.version} is larger than ${snapshot.home.ledger} can hold (at most ${snapshot.maxVersion}); renumber the file`,
      { file: tooLarge.fileName }
    );
  }
  const [renamed] = status.renamed;
  if (renamed) {
    const list = status.renamed.map((r) => `${r.appliedFileName} \u2192 ${r.fileName}`).join(", ");
    return new MigrationError(
      "RENAMED_MIGRATION_FILE",
      `applied migration files were renamed: ${list}. Applied files are immutable: give them back the names they were applied under`,
      { file: renamed.fileName }
    );
  }
  const [drifted] = status.drifted;
  if (drifted && !allowDrift) {
    const list = status.drifted.map((d) => `${d.fileName} (applied ${d.appliedChecksum}, file now ${d.fileChecksum})`).join("; ");
    return new MigrationError(
      "CHECKSUM_MISMATCH",
      `applied migration files were edited: ${list}. Applied files are immutable: restore them and put the change in a new file (or pass allowDrift: true to migrate anyway)`,
      { file: drifted.fileName }
    );
  }
  const [missing] = status.missing;
  if (missing && !allowDrift) {
    const list = status.missing.map(
      (m) => `${m.fileName ?? `version ${m.version}`} (version ${m.version}${m.description ? `, "${m.description}"` : ""})`
    ).join("; ");
    return new MigrationError(
      "MISSING_MIGRATION_FILE",
      `the database has applied migrations whose files are gone: ${list}. Restore them, or point at the right folder (or pass allowDrift: true to migrate anyway)`,
      { file: missing.fileName ?? `version ${missing.version}` }
    );
  }
  const [late] = status.outOfOrder;
  if (late) {
    const names = status.outOfOrder.map((f) => f.fileName).join(", ");
    const highest = status.currentVersion;
    return new MigrationError(
      "OUT_OF_ORDER",
      `${names} ${status.outOfOrder.length === 1 ? "is" : "are"} not applied but version ${highest} already is: files apply in version order, so a file numbered below an applied one would never run; renumber it above ${highest} (wukong-migrate create <name> gives the next number and copy the SQL there)`,
      { file: late.fileName }
    );
  }
  return void 0;
}
var init_migration_plan = __esm({
  "src/provider/migration-plan.ts"() {
    "use strict";
    init_migration_error();
  }
});

// src/provider/migration-state.ts
import { createHash as createHash2 } from "node:crypto";
async function checkUpToDate(query, files, schema, withStatus = false) {
  const home = ledgerHome(schema ?? DEFAULT_LEDGER_SCHEMA);
  const ledgerTables = `from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                          where c.relname in ('schema_versions', 'kysely_migration') and c.relkind in ('r', 'p')
                            and n.nspname <> ${literal(home.schema)} and n.nspname <> 'information_schema' and n.nspname !~ '^pg_'`;
  const elsewhere = schema !== void 0 ? "" : `and not exists (select ${ledgerTables}
                            and pg_catalog.obj_description(c.oid, 'pg_class') is distinct from ${literal(SET_MARK)})`;
  const report = withStatus ? `, (select json_agg(to_jsonb(l) order by l.version) from ${home.ledger} l) as rows,
       array(select distinct n.nspname::text ${ledgerTables}
               and pg_catalog.obj_description(c.oid, 'pg_class') = ${literal(SET_MARK)} order by 1) as sets` : "";
  const byVersion = [...files].sort((a, b) => a.version - b.version);
  const ledger = digest(byVersion.map((f) => `${f.version}:${f.checksum}`));
  const names = digest(files.map((f) => f.name).sort((a, b) => a < b ? -1 : a > b ? 1 : 0));
  try {
    const rows = await query(`
      with s as (select version, checksum, file_name, description, atomic, execution_ms, adopted_at from ${home.ledger})
      select encode(sha256(convert_to(coalesce((select string_agg(version::text || ':' || coalesce(checksum, ''), E'\\n' order by version) from s), ''), 'UTF8')), 'hex') = ${literal(ledger)}
         and encode(sha256(convert_to(coalesce((select string_agg(name, E'\\n' order by name collate "C") from ${home.kysely}), ''), 'UTF8')), 'hex') = ${literal(names)}
         and (select count(*) from ${home.lock}) > -1
         ${elsewhere} as ok,
             (select max(version) from s)::int as version${report}`);
    const row2 = rows[0];
    if (!row2?.ok) return void 0;
    if (!withStatus) return Object.freeze({ currentVersion: row2.version });
    const status = planMigrations(files, {
      home,
      complete: true,
      rows: (row2.rows ?? []).map(toLedgerRow),
      kysely: files.map((f) => ({ name: f.name, timestamp: "" })),
      maxVersion: Number.MAX_SAFE_INTEGER,
      otherSets: row2.sets ?? []
    });
    return status.isUpToDate ? Object.freeze({ currentVersion: row2.version, status }) : void 0;
  } catch (error) {
    const code2 = errorCode(error);
    if (code2 === SQLSTATE.UNDEFINED_TABLE || code2 === SQLSTATE.UNDEFINED_COLUMN || code2 === "3F000") return void 0;
    throw error;
  }
}
function digest(lines) {
  return createHash2("sha256").update(lines.join("\n")).digest("hex");
}
var init_migration_state = __esm({
  "src/provider/migration-state.ts"() {
    "use strict";
    init_ledger_names();
    init_ledger_row();
    init_sql_text();
    init_migration_plan();
    init_sql_state();
  }
});

// src/provider/import-at-run-time.ts
function importAtRunTime(specifier) {
  return import(
    /* webpackIgnore: true */
    /* turbopackIgnore: true */
    /* @vite-ignore */
    specifier
  );
}
var init_import_at_run_time = __esm({
  "src/provider/import-at-run-time.ts"() {
    "use strict";
  }
});

// src/provider/sql-parser.ts
function loadSqlParser() {
  loading ??= importAtRunTime("libpg-query").then(async (lib) => {
    await lib.loadModule();
    loaded = lib;
    return lib;
  });
  return loading;
}
function loadedSqlParser() {
  if (!loaded) throw new Error("the SQL parser is used before loadSqlParser() resolved");
  return loaded;
}
var loading, loaded;
var init_sql_parser = __esm({
  "src/provider/sql-parser.ts"() {
    "use strict";
    init_import_at_run_time();
  }
});

// src/provider/statement-guards.ts
function findHazards(statement, context) {
  const found = [];
  const [kind, top] = Object.entries(statement)[0];
  walk(kind, top, context, found, true);
  return found;
}
function walk(kind, node, context, found, top) {
  inspect(kind, node, context, found, top);
  for (const [key, value] of Object.entries(node)) {
    if ((kind === "CreateFunctionStmt" || kind === "AlterFunctionStmt") && (key === "options" || key === "actions")) {
      visit(
        asList(value).filter((o) => unwrap(o, "DefElem")?.["defname"] !== "set"),
        context,
        found
      );
    } else {
      visit(value, context, found);
    }
  }
}
function visit(value, context, found) {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, context, found);
    return;
  }
  if (value === null || typeof value !== "object") return;
  const entries = Object.entries(value);
  const [type, fields] = entries[0] ?? [];
  if (entries.length === 1 && /^[A-Z]/.test(type) && fields !== null && typeof fields === "object") {
    walk(type, fields, context, found, false);
    return;
  }
  for (const [, child] of entries) visit(child, context, found);
}
function inspect(kind, node, context, found, top) {
  const ledger = (what, relation) => {
    const name = bookkeepingName(relation);
    if (name) found.push({ code: "LEDGER_WRITE", what: `${what} ${name}` });
  };
  switch (kind) {
    case "InsertStmt":
      if (!(top && relname(node["relation"]) === "schema_versions")) ledger(WRITES[kind], node["relation"]);
      return;
    case "DeleteStmt": {
      const ownRow = context.direction === "down" && relname(node["relation"]) === "schema_versions";
      if (top && ownRow && deletesOnlyVersion(node, context.version)) return;
      ledger(WRITES[kind], node["relation"]);
      return;
    }
    case "UpdateStmt":
    case "MergeStmt":
    case "AlterTableStmt":
    case "AlterObjectSchemaStmt":
    case "CreateTrigStmt":
    case "RuleStmt":
    case "IndexStmt":
      ledger(WRITES[kind], node["relation"]);
      return;
    case "CreateStmt":
      if (!(node["if_not_exists"] && relname(node["relation"]) === "schema_versions" && !relname(node["relation"], "schemaname"))) {
        ledger(WRITES[kind], node["relation"]);
      }
      for (const parent of asList(node["inhRelations"])) ledger("a table inheriting from", unwrap(parent, "RangeVar"));
      return;
    case "CreateTableAsStmt":
    case "SelectStmt": {
      const into = kind === "SelectStmt" ? node["intoClause"] : node["into"];
      if (into) ledger(kind === "SelectStmt" ? "SELECT INTO" : "CREATE TABLE AS", into["rel"]);
      return;
    }
    case "ViewStmt":
      ledger("a view named", node["view"]);
      return;
    case "CreatePolicyStmt":
    case "AlterPolicyStmt":
      ledger("a policy on", node["table"]);
      return;
    case "TruncateStmt":
      for (const r of asList(node["relations"])) ledger("TRUNCATE of", unwrap(r, "RangeVar"));
      return;
    case "CopyStmt":
      if (node["is_from"]) ledger("COPY into", node["relation"]);
      return;
    case "GrantStmt":
      if (node["objtype"] === "OBJECT_TABLE") {
        const verb = node["is_grant"] ? "GRANT" : "REVOKE";
        for (const r of asList(node["objects"])) ledger(`${verb} on`, unwrap(r, "RangeVar"));
      }
      return;
    case "RenameStmt": {
      if (node["renameType"] === "OBJECT_SCHEMA" && node["subname"] === "public") {
        found.push({ code: "LEDGER_WRITE", what: "renaming the public schema (where the ledgers live)" });
      }
      ledger("renaming", node["relation"]);
      const newname = node["newname"];
      if (typeof newname === "string" && LEDGER_TABLES.includes(newname) && node["relation"]) {
        found.push({ code: "LEDGER_WRITE", what: `renaming a table to ${newname}` });
      }
      return;
    }
    case "DropStmt": {
      const type = node["removeType"];
      for (const object of asList(node["objects"])) {
        const names = asList(unwrap(object, "List")?.["items"] ?? [object]).map((n) => unwrap(n, "String")?.["sval"]);
        const last = names.at(-1);
        if (DROPPED_KINDS.has(String(type)) && typeof last === "string" && LEDGER_TABLES.includes(last)) {
          found.push({ code: "LEDGER_WRITE", what: `DROP of ${last}` });
        }
        if (type === "OBJECT_SCHEMA" && last === "public") {
          found.push({ code: "LEDGER_WRITE", what: "DROP SCHEMA public (where the ledgers live)" });
        }
      }
      return;
    }
    case "DropOwnedStmt":
      found.push({ code: "LEDGER_WRITE", what: "DROP OWNED (it can drop the ledgers)" });
      return;
    case "DiscardStmt":
      if (node["target"] === "DISCARD_ALL") found.push({ code: "MIGRATION_LOCK_RELEASE", what: "DISCARD ALL" });
      return;
    case "FuncCall": {
      const name = funcName(node);
      if (name && LOCK_RELEASERS.has(name)) found.push({ code: "MIGRATION_LOCK_RELEASE", what: `${name}()` });
      if (name === "set_config" && !context.ownTimeouts) {
        const setting = unwrap(asList(node["args"])[0], "A_Const")?.["sval"];
        const value = setting?.sval?.toLowerCase();
        if (value === void 0) {
          found.push({ code: "LIMIT_OVERRIDE", what: "set_config() of a setting named at run time" });
        } else if (LIMIT_SETTINGS.includes(value)) {
          found.push({ code: "LIMIT_OVERRIDE", what: `set_config('${value}', \u2026)` });
        }
      }
      return;
    }
    case "VariableSetStmt": {
      if (context.ownTimeouts) return;
      const name = typeof node["name"] === "string" ? node["name"].toLowerCase() : void 0;
      if (node["kind"] === "VAR_RESET_ALL") found.push({ code: "LIMIT_OVERRIDE", what: "RESET ALL" });
      else if (name && LIMIT_SETTINGS.includes(name)) {
        found.push({ code: "LIMIT_OVERRIDE", what: `${node["kind"] === "VAR_RESET" ? "RESET" : "SET"} ${name}` });
      }
      return;
    }
    case "DoStmt":
    case "CreateFunctionStmt":
      inspectBody(kind, node, context, found);
      return;
    default:
      return;
  }
}
function inspectBody(kind, node, context, found) {
  const options = asList(kind === "DoStmt" ? node["args"] : node["options"]).map((o) => unwrap(o, "DefElem"));
  const option = (name) => options.find((o) => o?.["defname"] === name)?.["arg"];
  const declared = unwrap(option("language"), "String")?.["sval"];
  const language = String(declared ?? (kind === "DoStmt" ? "plpgsql" : "sql")).toLowerCase();
  const as = option("as");
  const body = unwrap(as, "String")?.["sval"] ?? unwrap(asList(unwrap(as, "List")?.["items"])[0], "String")?.["sval"];
  if (typeof body !== "string" || language === "c" || language === "internal") return;
  if (language === "sql") {
    try {
      const tree = loadedSqlParser().parseSync(body);
      for (const s of tree.stmts ?? []) found.push(...findHazards(s.stmt, { ...context, direction: "up" }));
      return;
    } catch {
    }
  }
  found.push(...searchBody(body, context));
}
function searchBody(body, context) {
  const found = [];
  const text = body.replace(/--[^\r\n]*/g, " ");
  const tables = LEDGER_TABLES.join("|");
  const verbs = String.raw`insert\s+into|update|delete\s+from|truncate(?:\s+table)?|alter\s+table(?:\s+if\s+exists)?|drop\s+table(?:\s+if\s+exists)?|copy`;
  const write = new RegExp(String.raw`\b(${verbs})\s+(?:only\s+)?(?:"?\w+"?\.)?"?(${tables})"?\b`, "i");
  const w = write.exec(text);
  if (w) {
    const verb = w[1].replace(/\s+/g, " ").toUpperCase();
    found.push({ code: "LEDGER_WRITE", what: `${verb} ${w[2].toLowerCase()} in a function or DO body` });
  }
  const unlock = /\b(pg_advisory_unlock(?:_all|_shared)?)\s*\(|\bdiscard\s+all\b/i.exec(text);
  if (unlock) {
    const call = unlock[1] ? `${unlock[1].toLowerCase()}()` : "DISCARD ALL";
    found.push({ code: "MIGRATION_LOCK_RELEASE", what: `${call} in a function or DO body` });
  }
  if (!context.ownTimeouts) {
    const names = LIMIT_SETTINGS.join("|");
    const limit = new RegExp(
      String.raw`\b(?:set\s+(?:local\s+|session\s+)?|reset\s+)(${names})\b|\breset\s+all\b|set_config\s*\(\s*'(${names})'`,
      "i"
    ).exec(text);
    if (limit) {
      const what = (limit[1] ?? limit[2] ?? "RESET ALL").toLowerCase();
      found.push({ code: "LIMIT_OVERRIDE", what: `${what} in a function or DO body` });
    }
  }
  return found;
}
function deletesOnlyVersion(node, version) {
  if (node["usingClause"] || node["withClause"] || node["returningList"]) return false;
  const where = unwrap(node["whereClause"], "A_Expr");
  const operator = unwrap(asList(where?.["name"])[0], "String")?.["sval"];
  if (where?.["kind"] !== "AEXPR_OP" || operator !== "=") return false;
  const sides = [where["lexpr"], where["rexpr"]];
  const column = sides.map((s) => {
    const fields = asList(unwrap(s, "ColumnRef")?.["fields"]);
    return fields.map((f) => unwrap(f, "String")?.["sval"]).at(-1);
  });
  const value = sides.map((s) => {
    const integer = unwrap(s, "A_Const")?.["ival"];
    return integer ? integer.ival ?? 0 : void 0;
  });
  return column[0] === "version" && value[1] === version || column[1] === "version" && value[0] === version;
}
function funcName(node) {
  const parts = asList(node["funcname"]).map((p) => unwrap(p, "String")?.["sval"]);
  const name = parts.at(-1);
  if (typeof name !== "string") return void 0;
  return parts.length === 1 || parts[0] === "pg_catalog" ? name.toLowerCase() : void 0;
}
function relname(relation, field = "relname") {
  const r = unwrap(relation, "RangeVar") ?? relation;
  return typeof r?.[field] === "string" ? r[field] : void 0;
}
function bookkeepingName(relation) {
  const name = relname(relation);
  return name !== void 0 && LEDGER_TABLES.includes(name) ? name : void 0;
}
function asList(value) {
  return Array.isArray(value) ? value : [];
}
function unwrap(value, type) {
  if (value === null || typeof value !== "object") return void 0;
  const wrapped = value[type];
  if (wrapped !== null && typeof wrapped === "object") return wrapped;
  return void 0;
}
function createsTemporaryObjects(statement) {
  let found = false;
  eachNode(statement, (node) => {
    if (node["relpersistence"] === "t") found = true;
  });
  return found;
}
function eachNode(tree, see) {
  if (Array.isArray(tree)) {
    for (const item of tree) eachNode(item, see);
  } else if (tree !== null && typeof tree === "object") {
    see(tree);
    for (const child of Object.values(tree)) eachNode(child, see);
  }
}
var LIMIT_SETTINGS, LOCK_RELEASERS, WRITES, DROPPED_KINDS;
var init_statement_guards = __esm({
  "src/provider/statement-guards.ts"() {
    "use strict";
    init_ledger_names();
    init_sql_parser();
    LIMIT_SETTINGS = Object.freeze(["lock_timeout", "statement_timeout"]);
    LOCK_RELEASERS = /* @__PURE__ */ new Set(["pg_advisory_unlock", "pg_advisory_unlock_all", "pg_advisory_unlock_shared"]);
    WRITES = {
      InsertStmt: "INSERT into",
      UpdateStmt: "UPDATE of",
      DeleteStmt: "DELETE from",
      MergeStmt: "MERGE into",
      AlterTableStmt: "ALTER of",
      AlterObjectSchemaStmt: "ALTER \u2026 SET SCHEMA of",
      CreateTrigStmt: "a trigger on",
      RuleStmt: "a rule on",
      IndexStmt: "an index on",
      CreateStmt: "CREATE TABLE"
    };
    DROPPED_KINDS = /* @__PURE__ */ new Set([
      "OBJECT_TABLE",
      "OBJECT_VIEW",
      "OBJECT_MATVIEW",
      "OBJECT_FOREIGN_TABLE",
      "OBJECT_SEQUENCE"
    ]);
  }
});

// src/provider/parse-migration-sql.ts
async function parseMigrationSql(text, file, version, direction = "up") {
  const { hasSqlDetails, parseSync } = await loadSqlParser();
  const { transactional, ownTimeouts } = readDirectives(text, file);
  if (text.trim() === "") {
    throw new MigrationError("EMPTY_MIGRATION", `the file is empty`, { file });
  }
  let tree;
  try {
    tree = parseSync(text);
  } catch (error) {
    const at = hasSqlDetails(error) ? indexOfCodePoint(text, error.sqlDetails.cursorPosition) : 0;
    throw errorAt("SQL_SYNTAX_ERROR", text, file, at, error.message, error);
  }
  const toChar = byteToCharOffsets(text);
  const locate = lineColumnFinder(text);
  const statements = [];
  const ledgerInserts = [];
  let createsTemporary = false;
  for (const raw of tree.stmts ?? []) {
    const rangeStart = toChar(raw.stmt_location ?? 0);
    const rangeEnd = raw.stmt_len ? toChar((raw.stmt_location ?? 0) + raw.stmt_len) : text.length;
    const start = skipSpaceAndComments(text, rangeStart, rangeEnd);
    const [kind, node] = Object.entries(raw.stmt)[0];
    const { line, column } = locate(start);
    statements.push({
      text: text.slice(start, rangeEnd),
      start,
      line,
      column,
      kind,
      relations: relationsOf(node),
      ...kind === "IndexStmt" && node["concurrent"] ? { concurrentIndex: concurrentIndexOf(node) } : {}
    });
    const fail = (code2, message) => errorAt(code2, text, file, start, message);
    const copy = copyWithClient(kind, node);
    if (copy) {
      throw fail(
        "UNSUPPORTED_STATEMENT",
        `${copy} is not supported in a migration file: the data would have to come from (or go to) the client, which a migration file cannot provide; put the rows in INSERT statements, or COPY from a file on the server`
      );
    }
    if (kind === "TransactionStmt") {
      throw fail(
        "TRANSACTION_CONTROL",
        `transaction control (${firstWords(text, start)}) is not allowed: each migration file already runs in its own transaction, which commits with its schema_versions row`
      );
    }
    const needsNoTransaction = nonTransactionalReason(kind, node);
    if (needsNoTransaction && transactional) {
      throw fail(
        "NON_TRANSACTIONAL_STATEMENT",
        `${needsNoTransaction} cannot run inside a transaction; put \`${NO_TRANSACTION_DIRECTIVE}\` on the file's first line to run its statements one by one outside a transaction (the file is then not atomic: keep it to such statements and make them idempotent)`
      );
    }
    const [hazard] = findHazards(raw.stmt, { version, direction, ownTimeouts });
    createsTemporary ||= createsTemporaryObjects(raw.stmt);
    if (hazard) throw fail(hazard.code, hazardMessage(hazard, version, direction));
    const target = node["relation"]?.relname;
    if (kind === "InsertStmt" && target === "schema_versions") {
      ledgerInserts.push(readLedgerInsert(node, version, start, rangeEnd, fail));
    }
  }
  if (statements.length === 0) {
    throw new MigrationError("EMPTY_MIGRATION", `the file has no SQL statements`, { file });
  }
  return Object.freeze({ statements, transactional, ownTimeouts, createsTemporary, ledgerInserts });
}
function directiveLineCount(text) {
  const lines = text.split(LINE_BREAK);
  let n = 0;
  while (n < lines.length && DIRECTIVE_LINE.test(lines[n])) n++;
  return n;
}
function readDirectives(text, file) {
  const lines = text.split(LINE_BREAK).slice(0, directiveLineCount(text));
  let transactional = true;
  let ownTimeouts = false;
  lines.forEach((raw, index) => {
    const line = raw.trim();
    const name = line.replace(/^--\s*wukong\s*:\s*/i, "").trim();
    if (name === "no-transaction") transactional = false;
    else if (name === "own-timeouts") ownTimeouts = true;
    else if (/^allow\b/i.test(name)) {
    } else {
      const column = raw.length - raw.trimStart().length + 1;
      throw new MigrationError(
        "UNKNOWN_DIRECTIVE",
        `unknown directive "${line}"; the directives are "${NO_TRANSACTION_DIRECTIVE}" and "${OWN_TIMEOUTS_DIRECTIVE}", each on its own line at the top of the file`,
        { file, line: index + 1, column }
      );
    }
  });
  return { transactional, ownTimeouts };
}
function hazardMessage(hazard, version, direction) {
  switch (hazard.code) {
    case "LEDGER_WRITE":
      return `${hazard.what} is not allowed in a migration file: the ledgers (schema_versions, kysely_migration) are the migration tool's, and a changed ledger makes files run again or never${direction === "down" ? ` (a down file may only DELETE FROM schema_versions WHERE version = ${version}, its own row, which the tool deletes anyway)` : ""}`;
    case "MIGRATION_LOCK_RELEASE":
      return `${hazard.what} is not allowed in a migration file: it can release the migration lock, and another migrator could then run the same files at the same time`;
    case "LIMIT_OVERRIDE":
      return `${hazard.what} is not allowed here: it would change the lock_timeout/statement_timeout the runner sets for every statement (--lock-timeout, --statement-timeout); delete it, or put "${OWN_TIMEOUTS_DIRECTIVE}" on its own line at the top of the file to let the file set its own`;
  }
}
function nonTransactionalReason(kind, node) {
  switch (kind) {
    case "IndexStmt":
      return node["concurrent"] ? "CREATE INDEX CONCURRENTLY" : void 0;
    case "DropStmt":
      return node["concurrent"] ? "DROP INDEX CONCURRENTLY" : void 0;
    case "ReindexStmt": {
      const params = node["params"] ?? [];
      if (params.some((p) => p.DefElem?.defname === "concurrently")) return "REINDEX CONCURRENTLY";
      return node["kind"] === "REINDEX_OBJECT_SYSTEM" || node["kind"] === "REINDEX_OBJECT_DATABASE" ? "REINDEX SYSTEM/DATABASE" : void 0;
    }
    case "VacuumStmt":
      return node["is_vacuumcmd"] ? "VACUUM" : void 0;
    case "ClusterStmt":
      return node["relation"] ? void 0 : "CLUSTER without a table";
    case "AlterTableStmt": {
      const cmds = node["cmds"] ?? [];
      const detach = cmds.some((c) => {
        const def = c.AlterTableCmd?.["def"];
        return c.AlterTableCmd?.["subtype"] === "AT_DetachPartition" && def?.PartitionCmd?.["concurrent"];
      });
      return detach ? "DETACH PARTITION CONCURRENTLY" : void 0;
    }
    default:
      return NEVER_IN_TRANSACTION[kind];
  }
}
function copyWithClient(kind, node) {
  if (kind !== "CopyStmt" || node["filename"] !== void 0 || node["is_program"]) return void 0;
  return node["is_from"] ? "COPY \u2026 FROM STDIN" : "COPY \u2026 TO STDOUT";
}
function relationsOf(node) {
  const found = /* @__PURE__ */ new Set();
  eachNode(node, (record) => {
    if (typeof record["relname"] !== "string") return;
    const schema = typeof record["schemaname"] === "string" ? `${quoteIdent(record["schemaname"])}.` : "";
    found.add(`${schema}${quoteIdent(record["relname"])}`);
  });
  return [...found];
}
function concurrentIndexOf(node) {
  const relation = node["relation"];
  const schema = relation.schemaname ? `${quoteIdent(relation.schemaname)}.` : "";
  return Object.freeze({
    ...typeof node["idxname"] === "string" ? { name: node["idxname"] } : {},
    ...relation.schemaname ? { schema: relation.schemaname } : {},
    table: `${schema}${quoteIdent(relation.relname)}`
  });
}
function readLedgerInsert(node, version, start, end, fail) {
  const cols = (node["cols"] ?? []).map((c) => c.ResTarget?.name);
  const versionIndex = cols.length ? cols.indexOf("version") : 0;
  const descriptionIndex = cols.length ? cols.indexOf("description") : 1;
  const select = node["selectStmt"]?.SelectStmt;
  const rows = select?.["valuesLists"] ?? [];
  const wrong = (what) => fail("WRONG_LEDGER_VERSION", `${what}; a file may record only its own version (${version}) in schema_versions`);
  if (versionIndex === -1 || rows.length !== 1) {
    throw wrong("this schema_versions INSERT does not insert exactly one VALUES row with a literal version");
  }
  const items = rows[0].List?.items ?? [];
  const constant = items[versionIndex]?.["A_Const"];
  const inserted = constant?.ival ? constant.ival.ival ?? 0 : void 0;
  if (inserted !== version) {
    throw wrong(`this INSERT records version ${inserted ?? "(not a literal integer)"} in schema_versions`);
  }
  const description = items[descriptionIndex]?.["A_Const"]?.sval?.sval;
  return Object.freeze({ start, end, description });
}
function skipSpaceAndComments(text, from, to) {
  let i = from;
  while (i < to) {
    const c = text[i];
    if (c === " " || c === "\n" || c === "	" || c === "\r" || c === "\f") {
      i++;
    } else if (c === "-" && text[i + 1] === "-") {
      const nl = nextLineBreak(text, i);
      i = nl === -1 ? to : nl + 1;
    } else if (c === "/" && text[i + 1] === "*") {
      let depth = 1;
      i += 2;
      while (i < to && depth > 0) {
        if (text[i] === "/" && text[i + 1] === "*") {
          depth++;
          i += 2;
        } else if (text[i] === "*" && text[i + 1] === "/") {
          depth--;
          i += 2;
        } else {
          i++;
        }
      }
    } else {
      break;
    }
  }
  return i;
}
function firstWords(text, start) {
  return text.slice(start, start + 40).split(/[;\r\n]/)[0].trim();
}
function errorAt(code2, text, file, offset, message, cause) {
  const { line, column } = lineColumnAt(text, offset);
  return new MigrationError(code2, message, { file, line, column, cause });
}
var NO_TRANSACTION_DIRECTIVE, OWN_TIMEOUTS_DIRECTIVE, DIRECTIVE_LINE, NEVER_IN_TRANSACTION;
var init_parse_migration_sql = __esm({
  "src/provider/parse-migration-sql.ts"() {
    "use strict";
    init_migration_error();
    init_sql_parser();
    init_sql_text();
    init_statement_guards();
    NO_TRANSACTION_DIRECTIVE = "-- wukong:no-transaction";
    OWN_TIMEOUTS_DIRECTIVE = "-- wukong:own-timeouts";
    DIRECTIVE_LINE = /^\s*--\s*wukong\s*:/i;
    NEVER_IN_TRANSACTION = {
      CreatedbStmt: "CREATE DATABASE",
      DropdbStmt: "DROP DATABASE",
      CreateTableSpaceStmt: "CREATE TABLESPACE",
      DropTableSpaceStmt: "DROP TABLESPACE",
      AlterSystemStmt: "ALTER SYSTEM",
      CreateSubscriptionStmt: "CREATE SUBSCRIPTION",
      DropSubscriptionStmt: "DROP SUBSCRIPTION"
    };
  }
});

// src/provider/read-migration-folder.ts
import { readdirSync, readFileSync as readFileSync3, realpathSync, statSync } from "node:fs";
import { join as join2, sep } from "node:path";
function scanMigrationFolder(folder, options = {}) {
  const problem = problemHandler(options);
  const refuse = (code2, message, file) => problem(new MigrationError(code2, message, { file }));
  let root;
  let entries;
  try {
    root = realpathSync(folder);
    entries = readdirSync(root, { withFileTypes: true });
  } catch (cause) {
    throw new MigrationError(
      "FOLDER_NOT_FOUND",
      `migration folder ${folder} cannot be read (${cause.code ?? "error"})`,
      { file: folder, cause }
    );
  }
  const ups = /* @__PURE__ */ new Map();
  const downs = /* @__PURE__ */ new Map();
  const byVersion = /* @__PURE__ */ new Map();
  const links = /* @__PURE__ */ new Set();
  for (const entry of entries.sort((a, b) => a.name < b.name ? -1 : 1)) {
    const fileName = entry.name;
    if (fileName.startsWith(".") || !fileName.toLowerCase().endsWith(".sql")) continue;
    if (entry.isDirectory() || entry.isSymbolicLink() && isDirectory(join2(root, fileName))) {
      refuse("UNREADABLE_FILE", `is a directory, not a migration file; rename or move it`, fileName);
      continue;
    }
    if (entry.isSymbolicLink()) links.add(fileName);
    else if (!entry.isFile()) {
      refuse("UNREADABLE_FILE", `is not a regular file`, fileName);
      continue;
    }
    const match = MIGRATION_FILE_PATTERN.exec(fileName);
    if (!match) {
      refuse(
        "INVALID_FILE_NAME",
        `not a migration file name; expected NNN_descriptive_name.sql (at least 3 zero-padded digits, then lower-case words joined by underscores, e.g. 005_add_session_tags.sql)`,
        fileName
      );
      continue;
    }
    const version = Number(match[1]);
    const name = `${match[1]}_${match[2]}`;
    if (version > MAX_VERSION) {
      const message = `version ${match[1]} is larger than the ledger can record (at most ${MAX_VERSION}); renumber the file`;
      refuse("VERSION_OUT_OF_RANGE", message, fileName);
      continue;
    }
    if (match[3]) {
      downs.set(name, fileName);
      continue;
    }
    const twin = byVersion.get(version);
    if (twin) {
      refuse(
        "DUPLICATE_VERSION",
        `version ${version} is also used by ${twin}; each version must have exactly one file`,
        fileName
      );
      continue;
    }
    byVersion.set(version, fileName);
    ups.set(name, { version, fileName });
  }
  for (const [name, fileName] of downs) {
    if (!ups.has(name))
      refuse("ORPHAN_DOWN_FILE", `a down file needs its up file ${name}.sql, which does not exist`, fileName);
  }
  const names = [...ups.keys()].sort();
  try {
    versionWidth(names.map((name) => ups.get(name).fileName));
  } catch (error) {
    problem(error);
  }
  const heads = [];
  for (const name of names) {
    const { version, fileName } = ups.get(name);
    const downName = downs.get(name);
    try {
      const down = downName ? readSqlFile(root, downName, links.has(downName)) : void 0;
      heads.push(Object.freeze({ version, name, ...readSqlFile(root, fileName, links.has(fileName)), down }));
    } catch (error) {
      if (!(error instanceof MigrationError)) throw error;
      problem(error);
    }
  }
  return heads;
}
function problemHandler(options) {
  const { report } = options;
  return (error) => {
    if (!report) throw error;
    report(error);
  };
}
function versionWidth(fileNames) {
  const files = fileNames.map((fileName) => ({ fileName, digits: MIGRATION_FILE_PATTERN.exec(fileName)?.[1] })).filter((f) => f.digits !== void 0).sort((x, y) => Number(x.digits) - Number(y.digits) || (x.fileName < y.fileName ? -1 : 1));
  if (files.length === 0) return 3;
  const counts = /* @__PURE__ */ new Map();
  for (const f of files) counts.set(f.digits.length, (counts.get(f.digits.length) ?? 0) + 1);
  let width = files[0].digits.length;
  for (const [w, n] of counts) if (n > counts.get(width)) width = w;
  const odd = files.find((f) => f.digits.length !== width);
  if (odd) {
    const example = files.find((f) => f.digits.length === width).fileName;
    throw new MigrationError(
      "MIXED_VERSION_WIDTH",
      `${odd.fileName} has a ${odd.digits.length}-digit version but the folder's files (e.g. ${example}) have ${width} digits; Kysely runs migrations in name order, which is version order only when every file has the same number of digits`,
      { file: odd.fileName }
    );
  }
  return width;
}
async function parseMigrationFiles(heads, options = {}) {
  const memo = options.memo ?? /* @__PURE__ */ new Map();
  const parseCached = (file, version, direction) => {
    const key = `${file.fileName}\0${version}\0${direction}\0${file.checksum}`;
    let parsed = memo.get(key);
    if (!parsed) {
      parsed = parseMigrationSql(file.text, file.fileName, version, direction);
      memo.set(key, parsed);
      parsed.catch(() => memo.delete(key));
    }
    return parsed;
  };
  const problem = problemHandler(options);
  const files = [];
  for (const head of heads) {
    let sql15;
    let down;
    try {
      sql15 = await parseCached(head, head.version, "up");
      if (head.down) down = Object.freeze({ ...head.down, sql: await parseCached(head.down, head.version, "down") });
    } catch (error) {
      if (!(error instanceof MigrationError)) throw error;
      problem(error);
      continue;
    }
    const description = sql15.ledgerInserts.find((i) => i.description)?.description ?? head.name.slice(head.name.indexOf("_") + 1).replace(/_/g, " ");
    files.push(Object.freeze({ ...head, description, sql: sql15, down }));
  }
  return files;
}
function isDirectory(path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
function readSqlFile(root, fileName, isLink) {
  const path = join2(root, fileName);
  let bytes;
  try {
    const real = isLink ? realpathSync(path) : path;
    if (isLink && !statSync(real).isFile()) {
      throw new MigrationError("UNREADABLE_FILE", `is a link to something that is not a regular file`, {
        file: fileName
      });
    }
    if (!real.startsWith(root + sep)) {
      throw new MigrationError(
        "FILE_OUTSIDE_FOLDER",
        `is a link to ${real}, outside the migration folder; copy the file in instead`,
        { file: fileName }
      );
    }
    bytes = readFileSync3(real);
  } catch (cause) {
    if (cause instanceof MigrationError) throw cause;
    throw new MigrationError(
      "UNREADABLE_FILE",
      `cannot be read (${cause.code ?? "error"})`,
      { file: fileName, cause }
    );
  }
  const text = decodeSqlFile(bytes, fileName);
  return Object.freeze({ fileName, path, text, checksum: sqlChecksum(text) });
}
var MAX_VERSION, MIGRATION_FILE_PATTERN;
var init_read_migration_folder = __esm({
  "src/provider/read-migration-folder.ts"() {
    "use strict";
    init_migration_error();
    init_parse_migration_sql();
    init_sql_text();
    MAX_VERSION = 2147483647;
    MIGRATION_FILE_PATTERN = /^(\d{3,})_([a-z0-9]+(?:_[a-z0-9]+)*)(\.down)?\.sql$/;
  }
});

// src/provider/wukong-migrations.ts
var WUKONG_MIGRATIONS;
var init_wukong_migrations = __esm({
  "src/provider/wukong-migrations.ts"() {
    "use strict";
    WUKONG_MIGRATIONS = [
      {
        "version": 1,
        "name": "001_initial_schema",
        "fileName": "001_initial_schema.sql",
        "path": "migrations/001_initial_schema.sql",
        "text": "-- 001_initial_schema: the agent's core tables \u2014 sessions, their steps, todos and checkpoints.\n--\n-- Exactly the schema deployed Wukong databases already run: same tables, columns, types,\n-- nullability, defaults, constraint and index names, so agent code works on both, an existing\n-- database is adopted without re-running this file, and later files can name any object. IF NOT EXISTS everywhere keeps the file\n-- harmless if it ever meets a database the old runner half-built.\n\n-- pgvector: 004_knowledge_base stores embeddings. Enabled here, first, so that a server\n-- without the extension fails on the first file rather than after three of them applied.\nCREATE EXTENSION IF NOT EXISTS vector;\n\n-- The version ledger. The migration runner adds its own bookkeeping columns (checksum,\n-- file_name, \u2026) but never renames or drops these three, which deployed code reads.\nCREATE TABLE IF NOT EXISTS schema_versions (\n    version     INTEGER PRIMARY KEY,\n    description TEXT NOT NULL,\n    applied_at  TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\n-- One agent run. Sub-agents are sessions too, linked to their parent; depth bounds recursion.\nCREATE TABLE IF NOT EXISTS sessions (\n    id                           VARCHAR(255) PRIMARY KEY,\n    goal                         TEXT NOT NULL,\n    initial_goal                 TEXT,\n    status                       VARCHAR(50) DEFAULT 'active',\n    user_id                      VARCHAR(255),\n    api_key                      VARCHAR(255),\n    organization_id              VARCHAR(255),\n    agent_type                   VARCHAR(100) DEFAULT 'InteractiveAgent',\n    auto_run                     BOOLEAN DEFAULT FALSE,\n    tools_config                 JSONB,\n    parent_session_id            VARCHAR(255) REFERENCES sessions(id),\n    depth                        INTEGER DEFAULT 0,\n    inherited_context            TEXT,\n    result_summary               TEXT,\n    is_sub_agent                 BOOLEAN DEFAULT FALSE,\n    -- Context compression: steps up to this id are folded into compressed_summary (-1: none).\n    last_compressed_step_id      INTEGER DEFAULT -1,\n    compressed_summary           TEXT,\n    is_compressing               BOOLEAN DEFAULT FALSE,\n    compressing_started_at       TIMESTAMP WITH TIME ZONE,\n    is_running                   BOOLEAN DEFAULT TRUE,\n    is_deleted                   BOOLEAN DEFAULT FALSE,\n    last_knowledge_extraction_at TIMESTAMP WITH TIME ZONE,\n    share_secret_key             VARCHAR(255) UNIQUE,\n    created_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    CONSTRAINT chk_session_depth CHECK (depth >= 0 AND depth <= 10)\n);\n\nCREATE INDEX IF NOT EXISTS idx_sessions_user_id ON sessions (user_id);\nCREATE INDEX IF NOT EXISTS idx_sessions_parent_session_id ON sessions (parent_session_id);\nCREATE INDEX IF NOT EXISTS idx_sessions_status ON sessions (status);\nCREATE INDEX IF NOT EXISTS idx_sessions_is_running ON sessions (is_running);\nCREATE INDEX IF NOT EXISTS idx_sessions_depth ON sessions (depth);\n-- Share links look sessions up by key; most sessions have none.\nCREATE INDEX IF NOT EXISTS idx_sessions_share_key ON sessions (share_secret_key)\n    WHERE share_secret_key IS NOT NULL;\n-- The session list: a user's live sessions, most recently touched first.\nCREATE INDEX IF NOT EXISTS idx_sessions_user_updated ON sessions (user_id, updated_at DESC)\n    WHERE is_deleted = FALSE;\n\n-- One step of a session: the prompt, the model's answer, the tool it chose and the outcome.\nCREATE TABLE IF NOT EXISTS steps (\n    id                    SERIAL PRIMARY KEY,\n    session_id            VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    step_number           INTEGER NOT NULL,\n    llm_prompt            TEXT,\n    llm_response          TEXT,\n    action                VARCHAR(100) NOT NULL,\n    reasoning             TEXT,\n    selected_tool         VARCHAR(255),\n    parameters            JSONB,\n    step_result           TEXT,\n    error_message         TEXT,\n    status                VARCHAR(50) DEFAULT 'pending',\n    -- Discarded steps stay for the record but drop out of the session's context.\n    discarded             BOOLEAN DEFAULT FALSE,\n    is_parallel           BOOLEAN DEFAULT FALSE,\n    wait_strategy         VARCHAR(50),\n    parallel_status       VARCHAR(50),\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    UNIQUE (session_id, step_number),\n    CONSTRAINT chk_step_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))\n);\n\nCREATE INDEX IF NOT EXISTS idx_steps_session_id ON steps (session_id);\nCREATE INDEX IF NOT EXISTS idx_steps_status ON steps (status);\nCREATE INDEX IF NOT EXISTS idx_steps_is_parallel ON steps (is_parallel);\nCREATE INDEX IF NOT EXISTS idx_steps_discarded ON steps (discarded);\nCREATE INDEX IF NOT EXISTS idx_steps_action ON steps (action);\n-- Building a session's context reads its live steps in order.\nCREATE INDEX IF NOT EXISTS idx_steps_session_active ON steps (session_id, step_number)\n    WHERE discarded = FALSE;\n\n-- The agent's plan: ordered todos with dependencies and their estimated and actual cost.\nCREATE TABLE IF NOT EXISTS todos (\n    id               VARCHAR(255) PRIMARY KEY,\n    session_id       VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    title            TEXT NOT NULL,\n    description      TEXT,\n    order_index      INTEGER NOT NULL,\n    status           VARCHAR(50) DEFAULT 'pending',\n    dependencies     JSONB,\n    priority         INTEGER DEFAULT 0,\n    estimated_steps  INTEGER,\n    actual_steps     INTEGER DEFAULT 0,\n    estimated_tokens INTEGER,\n    actual_tokens    INTEGER DEFAULT 0,\n    result           JSONB,\n    error            TEXT,\n    started_at       TIMESTAMP WITH TIME ZONE,\n    completed_at     TIMESTAMP WITH TIME ZONE,\n    duration_seconds INTEGER,\n    created_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\nCREATE INDEX IF NOT EXISTS idx_todos_session_id ON todos (session_id);\nCREATE INDEX IF NOT EXISTS idx_todos_status ON todos (status);\nCREATE INDEX IF NOT EXISTS idx_todos_order ON todos (session_id, order_index);\n\n-- Snapshots of a session's state to resume or branch from.\nCREATE TABLE IF NOT EXISTS checkpoints (\n    id              VARCHAR(255) PRIMARY KEY,\n    session_id      VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    name            VARCHAR(255),\n    description     TEXT,\n    checkpoint_type VARCHAR(50),\n    session_state   JSONB NOT NULL,\n    step_number     INTEGER,\n    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\nCREATE INDEX IF NOT EXISTS idx_checkpoints_session_id ON checkpoints (session_id);\nCREATE INDEX IF NOT EXISTS idx_checkpoints_created_at ON checkpoints (created_at);\n\n-- The old runner's convention, kept so that running this file by hand still records it.\n-- Through the migration provider this statement is replaced by the provider's own row.\nINSERT INTO schema_versions (version, description) VALUES (1, 'Initial schema: sessions, steps, todos, checkpoints')\nON CONFLICT (version) DO NOTHING;\n",
        "checksum": "c3f5531f642c21b9edc67404ee8082f7115dccc9d9cc74cc963dcb969a40ce89",
        "description": "Initial schema: sessions, steps, todos, checkpoints",
        "sql": {
          "statements": [
            {
              "text": "CREATE EXTENSION IF NOT EXISTS vector",
              "start": 660,
              "line": 10,
              "column": 1,
              "kind": "CreateExtensionStmt",
              "relations": []
            },
            {
              "text": "CREATE TABLE IF NOT EXISTS schema_versions (\n    version     INTEGER PRIMARY KEY,\n    description TEXT NOT NULL,\n    applied_at  TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
              "start": 872,
              "line": 14,
              "column": 1,
              "kind": "CreateStmt",
              "relations": [
                '"schema_versions"'
              ]
            },
            {
              "text": "CREATE TABLE IF NOT EXISTS sessions (\n    id                           VARCHAR(255) PRIMARY KEY,\n    goal                         TEXT NOT NULL,\n    initial_goal                 TEXT,\n    status                       VARCHAR(50) DEFAULT 'active',\n    user_id                      VARCHAR(255),\n    api_key                      VARCHAR(255),\n    organization_id              VARCHAR(255),\n    agent_type                   VARCHAR(100) DEFAULT 'InteractiveAgent',\n    auto_run                     BOOLEAN DEFAULT FALSE,\n    tools_config                 JSONB,\n    parent_session_id            VARCHAR(255) REFERENCES sessions(id),\n    depth                        INTEGER DEFAULT 0,\n    inherited_context            TEXT,\n    result_summary               TEXT,\n    is_sub_agent                 BOOLEAN DEFAULT FALSE,\n    -- Context compression: steps up to this id are folded into compressed_summary (-1: none).\n    last_compressed_step_id      INTEGER DEFAULT -1,\n    compressed_summary           TEXT,\n    is_compressing               BOOLEAN DEFAULT FALSE,\n    compressing_started_at       TIMESTAMP WITH TIME ZONE,\n    is_running                   BOOLEAN DEFAULT TRUE,\n    is_deleted                   BOOLEAN DEFAULT FALSE,\n    last_knowledge_extraction_at TIMESTAMP WITH TIME ZONE,\n    share_secret_key             VARCHAR(255) UNIQUE,\n    created_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    CONSTRAINT chk_session_depth CHECK (depth >= 0 AND depth <= 10)\n)",
              "start": 1139,
              "line": 21,
              "column": 1,
              "kind": "CreateStmt",
              "relations": [
                '"sessions"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_sessions_user_id ON sessions (user_id)",
              "start": 2698,
              "line": 51,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"sessions"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_sessions_parent_session_id ON sessions (parent_session_id)",
              "start": 2769,
              "line": 52,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"sessions"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_sessions_status ON sessions (status)",
              "start": 2860,
              "line": 53,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"sessions"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_sessions_is_running ON sessions (is_running)",
              "start": 2929,
              "line": 54,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"sessions"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_sessions_depth ON sessions (depth)",
              "start": 3006,
              "line": 55,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"sessions"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_sessions_share_key ON sessions (share_secret_key)\n    WHERE share_secret_key IS NOT NULL",
              "start": 3138,
              "line": 57,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"sessions"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_sessions_user_updated ON sessions (user_id, updated_at DESC)\n    WHERE is_deleted = FALSE",
              "start": 3333,
              "line": 60,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"sessions"'
              ]
            },
            {
              "text": "CREATE TABLE IF NOT EXISTS steps (\n    id                    SERIAL PRIMARY KEY,\n    session_id            VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    step_number           INTEGER NOT NULL,\n    llm_prompt            TEXT,\n    llm_response          TEXT,\n    action                VARCHAR(100) NOT NULL,\n    reasoning             TEXT,\n    selected_tool         VARCHAR(255),\n    parameters            JSONB,\n    step_result           TEXT,\n    error_message         TEXT,\n    status                VARCHAR(50) DEFAULT 'pending',\n    -- Discarded steps stay for the record but drop out of the session's context.\n    discarded             BOOLEAN DEFAULT FALSE,\n    is_parallel           BOOLEAN DEFAULT FALSE,\n    wait_strategy         VARCHAR(50),\n    parallel_status       VARCHAR(50),\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    UNIQUE (session_id, step_number),\n    CONSTRAINT chk_step_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))\n)",
              "start": 3549,
              "line": 64,
              "column": 1,
              "kind": "CreateStmt",
              "relations": [
                '"steps"',
                '"sessions"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_steps_session_id ON steps (session_id)",
              "start": 4781,
              "line": 91,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"steps"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_steps_status ON steps (status)",
              "start": 4852,
              "line": 92,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"steps"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_steps_is_parallel ON steps (is_parallel)",
              "start": 4915,
              "line": 93,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"steps"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_steps_discarded ON steps (discarded)",
              "start": 4988,
              "line": 94,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"steps"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_steps_action ON steps (action)",
              "start": 5057,
              "line": 95,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"steps"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_steps_session_active ON steps (session_id, step_number)\n    WHERE discarded = FALSE",
              "start": 5183,
              "line": 97,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"steps"'
              ]
            },
            {
              "text": "CREATE TABLE IF NOT EXISTS todos (\n    id               VARCHAR(255) PRIMARY KEY,\n    session_id       VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    title            TEXT NOT NULL,\n    description      TEXT,\n    order_index      INTEGER NOT NULL,\n    status           VARCHAR(50) DEFAULT 'pending',\n    dependencies     JSONB,\n    priority         INTEGER DEFAULT 0,\n    estimated_steps  INTEGER,\n    actual_steps     INTEGER DEFAULT 0,\n    estimated_tokens INTEGER,\n    actual_tokens    INTEGER DEFAULT 0,\n    result           JSONB,\n    error            TEXT,\n    started_at       TIMESTAMP WITH TIME ZONE,\n    completed_at     TIMESTAMP WITH TIME ZONE,\n    duration_seconds INTEGER,\n    created_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
              "start": 5390,
              "line": 101,
              "column": 1,
              "kind": "CreateStmt",
              "relations": [
                '"todos"',
                '"sessions"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_todos_session_id ON todos (session_id)",
              "start": 6224,
              "line": 123,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"todos"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_todos_status ON todos (status)",
              "start": 6295,
              "line": 124,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"todos"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_todos_order ON todos (session_id, order_index)",
              "start": 6358,
              "line": 125,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"todos"'
              ]
            },
            {
              "text": "CREATE TABLE IF NOT EXISTS checkpoints (\n    id              VARCHAR(255) PRIMARY KEY,\n    session_id      VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    name            VARCHAR(255),\n    description     TEXT,\n    checkpoint_type VARCHAR(50),\n    session_state   JSONB NOT NULL,\n    step_number     INTEGER,\n    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
              "start": 6498,
              "line": 128,
              "column": 1,
              "kind": "CreateStmt",
              "relations": [
                '"checkpoints"',
                '"sessions"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_checkpoints_session_id ON checkpoints (session_id)",
              "start": 6891,
              "line": 139,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"checkpoints"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_checkpoints_created_at ON checkpoints (created_at)",
              "start": 6974,
              "line": 140,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"checkpoints"'
              ]
            },
            {
              "text": "INSERT INTO schema_versions (version, description) VALUES (1, 'Initial schema: sessions, steps, todos, checkpoints')\nON CONFLICT (version) DO NOTHING",
              "start": 7235,
              "line": 144,
              "column": 1,
              "kind": "InsertStmt",
              "relations": [
                '"schema_versions"'
              ]
            }
          ],
          "transactional": true,
          "ownTimeouts": false,
          "createsTemporary": false,
          "ledgerInserts": [
            {
              "start": 7235,
              "end": 7384,
              "description": "Initial schema: sessions, steps, todos, checkpoints"
            }
          ]
        }
      },
      {
        "version": 2,
        "name": "002_parallel_execution",
        "fileName": "002_parallel_execution.sql",
        "path": "migrations/002_parallel_execution.sql",
        "text": `-- 002_parallel_execution: tool calls a step runs in parallel, one row per call.

CREATE TABLE IF NOT EXISTS parallel_tool_calls (
    id                    SERIAL PRIMARY KEY,
    step_id               INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,
    -- The model's id for the call, unique within its step.
    tool_id               VARCHAR(255) NOT NULL,
    tool_name             VARCHAR(255) NOT NULL,
    parameters            JSONB NOT NULL,
    status                VARCHAR(50) DEFAULT 'pending',
    result                TEXT,
    error_message         TEXT,
    progress_percentage   INTEGER DEFAULT 0,
    status_message        TEXT,
    -- Long-running calls are tracked by the external service's own task id and status.
    external_task_id      VARCHAR(255),
    external_status       VARCHAR(100),
    started_at            TIMESTAMP WITH TIME ZONE,
    completed_at          TIMESTAMP WITH TIME ZONE,
    execution_duration_ms INTEGER,
    retry_count           INTEGER DEFAULT 0,
    max_retries           INTEGER DEFAULT 3,
    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    UNIQUE (step_id, tool_id),
    CONSTRAINT chk_parallel_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))
);

CREATE INDEX IF NOT EXISTS idx_parallel_calls_step_id ON parallel_tool_calls (step_id);
CREATE INDEX IF NOT EXISTS idx_parallel_calls_status ON parallel_tool_calls (status);
CREATE INDEX IF NOT EXISTS idx_parallel_calls_tool_id ON parallel_tool_calls (tool_id);
-- Webhooks from external services arrive with their task id; most calls have none.
CREATE INDEX IF NOT EXISTS idx_parallel_calls_external_task ON parallel_tool_calls (external_task_id)
    WHERE external_task_id IS NOT NULL;
-- "Are all of this step's calls done?"
CREATE INDEX IF NOT EXISTS idx_parallel_status_count ON parallel_tool_calls (step_id, status);

INSERT INTO schema_versions (version, description) VALUES (2, 'Parallel tool calls')
ON CONFLICT (version) DO NOTHING;
`,
        "checksum": "73d3a5ddc7f237cde4d121bae17d5e8a554dc58efdad82eec01ef82adee1f739",
        "description": "Parallel tool calls",
        "sql": {
          "statements": [
            {
              "text": "CREATE TABLE IF NOT EXISTS parallel_tool_calls (\n    id                    SERIAL PRIMARY KEY,\n    step_id               INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,\n    -- The model's id for the call, unique within its step.\n    tool_id               VARCHAR(255) NOT NULL,\n    tool_name             VARCHAR(255) NOT NULL,\n    parameters            JSONB NOT NULL,\n    status                VARCHAR(50) DEFAULT 'pending',\n    result                TEXT,\n    error_message         TEXT,\n    progress_percentage   INTEGER DEFAULT 0,\n    status_message        TEXT,\n    -- Long-running calls are tracked by the external service's own task id and status.\n    external_task_id      VARCHAR(255),\n    external_status       VARCHAR(100),\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    retry_count           INTEGER DEFAULT 0,\n    max_retries           INTEGER DEFAULT 3,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    UNIQUE (step_id, tool_id),\n    CONSTRAINT chk_parallel_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))\n)",
              "start": 82,
              "line": 3,
              "column": 1,
              "kind": "CreateStmt",
              "relations": [
                '"parallel_tool_calls"',
                '"steps"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_parallel_calls_step_id ON parallel_tool_calls (step_id)",
              "start": 1332,
              "line": 29,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"parallel_tool_calls"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_parallel_calls_status ON parallel_tool_calls (status)",
              "start": 1420,
              "line": 30,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"parallel_tool_calls"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_parallel_calls_tool_id ON parallel_tool_calls (tool_id)",
              "start": 1506,
              "line": 31,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"parallel_tool_calls"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_parallel_calls_external_task ON parallel_tool_calls (external_task_id)\n    WHERE external_task_id IS NOT NULL",
              "start": 1678,
              "line": 33,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"parallel_tool_calls"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_parallel_status_count ON parallel_tool_calls (step_id, status)",
              "start": 1860,
              "line": 36,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"parallel_tool_calls"'
              ]
            },
            {
              "text": "INSERT INTO schema_versions (version, description) VALUES (2, 'Parallel tool calls')\nON CONFLICT (version) DO NOTHING",
              "start": 1956,
              "line": 38,
              "column": 1,
              "kind": "InsertStmt",
              "relations": [
                '"schema_versions"'
              ]
            }
          ],
          "transactional": true,
          "ownTimeouts": false,
          "createsTemporary": false,
          "ledgerInserts": [
            {
              "start": 1956,
              "end": 2073,
              "description": "Parallel tool calls"
            }
          ]
        }
      },
      {
        "version": 3,
        "name": "003_agent_fork",
        "fileName": "003_agent_fork.sql",
        "path": "migrations/003_agent_fork.sql",
        "text": "-- 003_agent_fork: tasks a session forks to a sub-agent (which runs as its own session).\n\nCREATE TABLE IF NOT EXISTS fork_agent_tasks (\n    id                    VARCHAR(255) PRIMARY KEY,\n    -- No ON DELETE here, as deployed: a parent with fork tasks cannot be deleted by accident.\n    parent_session_id     VARCHAR(255) NOT NULL REFERENCES sessions(id),\n    parent_step_id        INTEGER REFERENCES steps(id),\n    sub_session_id        VARCHAR(255) REFERENCES sessions(id),\n    goal                  TEXT NOT NULL,\n    context_summary       TEXT,\n    depth                 INTEGER NOT NULL,\n    max_steps             INTEGER DEFAULT 20,\n    timeout_seconds       INTEGER DEFAULT 300,\n    status                VARCHAR(50) DEFAULT 'pending',\n    result_summary        TEXT,\n    error_message         TEXT,\n    steps_executed        INTEGER DEFAULT 0,\n    tokens_used           INTEGER DEFAULT 0,\n    tools_called          INTEGER DEFAULT 0,\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    retry_count           INTEGER DEFAULT 0,\n    max_retries           INTEGER DEFAULT 3,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\nCREATE INDEX IF NOT EXISTS idx_fork_tasks_parent_session ON fork_agent_tasks (parent_session_id);\nCREATE INDEX IF NOT EXISTS idx_fork_tasks_sub_session ON fork_agent_tasks (sub_session_id);\nCREATE INDEX IF NOT EXISTS idx_fork_tasks_status ON fork_agent_tasks (status);\nCREATE INDEX IF NOT EXISTS idx_fork_tasks_depth ON fork_agent_tasks (depth);\n\nINSERT INTO schema_versions (version, description) VALUES (3, 'Agent fork tasks')\nON CONFLICT (version) DO NOTHING;\n",
        "checksum": "4ff11f296a1e109dbd5f7a49beea0d36097b082f9c6c9ddc0d1fe81832bd73a8",
        "description": "Agent fork tasks",
        "sql": {
          "statements": [
            {
              "text": "CREATE TABLE IF NOT EXISTS fork_agent_tasks (\n    id                    VARCHAR(255) PRIMARY KEY,\n    -- No ON DELETE here, as deployed: a parent with fork tasks cannot be deleted by accident.\n    parent_session_id     VARCHAR(255) NOT NULL REFERENCES sessions(id),\n    parent_step_id        INTEGER REFERENCES steps(id),\n    sub_session_id        VARCHAR(255) REFERENCES sessions(id),\n    goal                  TEXT NOT NULL,\n    context_summary       TEXT,\n    depth                 INTEGER NOT NULL,\n    max_steps             INTEGER DEFAULT 20,\n    timeout_seconds       INTEGER DEFAULT 300,\n    status                VARCHAR(50) DEFAULT 'pending',\n    result_summary        TEXT,\n    error_message         TEXT,\n    steps_executed        INTEGER DEFAULT 0,\n    tokens_used           INTEGER DEFAULT 0,\n    tools_called          INTEGER DEFAULT 0,\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    retry_count           INTEGER DEFAULT 0,\n    max_retries           INTEGER DEFAULT 3,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
              "start": 90,
              "line": 3,
              "column": 1,
              "kind": "CreateStmt",
              "relations": [
                '"fork_agent_tasks"',
                '"sessions"',
                '"steps"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_fork_tasks_parent_session ON fork_agent_tasks (parent_session_id)",
              "start": 1306,
              "line": 29,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"fork_agent_tasks"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_fork_tasks_sub_session ON fork_agent_tasks (sub_session_id)",
              "start": 1404,
              "line": 30,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"fork_agent_tasks"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_fork_tasks_status ON fork_agent_tasks (status)",
              "start": 1496,
              "line": 31,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"fork_agent_tasks"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_fork_tasks_depth ON fork_agent_tasks (depth)",
              "start": 1575,
              "line": 32,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"fork_agent_tasks"'
              ]
            },
            {
              "text": "INSERT INTO schema_versions (version, description) VALUES (3, 'Agent fork tasks')\nON CONFLICT (version) DO NOTHING",
              "start": 1653,
              "line": 34,
              "column": 1,
              "kind": "InsertStmt",
              "relations": [
                '"schema_versions"'
              ]
            }
          ],
          "transactional": true,
          "ownTimeouts": false,
          "createsTemporary": false,
          "ledgerInserts": [
            {
              "start": 1653,
              "end": 1767,
              "description": "Agent fork tasks"
            }
          ]
        }
      },
      {
        "version": 4,
        "name": "004_knowledge_base",
        "fileName": "004_knowledge_base.sql",
        "path": "migrations/004_knowledge_base.sql",
        "text": "-- 004_knowledge_base: knowledge extracted from sessions, searchable by embedding, and the\n-- feedback users give on it.\n\nCREATE TABLE IF NOT EXISTS knowledge_entities (\n    id                SERIAL PRIMARY KEY,\n    entity_id         VARCHAR(255) NOT NULL UNIQUE,\n    -- Knowledge outlives the session it came from.\n    source_session_id VARCHAR(255) REFERENCES sessions(id) ON DELETE SET NULL,\n    source_type       VARCHAR(50) DEFAULT 'conversation',\n    content           TEXT NOT NULL,\n    -- OpenAI text-embedding-3-small / ada-002 dimensions.\n    embedding         vector(1536),\n    -- Who may see it: 'public', 'organization' or 'user' (no CHECK, as deployed).\n    level             VARCHAR(50) NOT NULL,\n    category          VARCHAR(100),\n    tags              JSONB,\n    confidence_score  DOUBLE PRECISION DEFAULT 0.5,\n    usage_count       INTEGER DEFAULT 0,\n    last_used_at      TIMESTAMP WITH TIME ZONE,\n    user_id           VARCHAR(255),\n    organization_id   VARCHAR(255),\n    -- Only indexed, not-to-be-removed entries are served by search.\n    is_indexed        BOOLEAN DEFAULT FALSE,\n    is_to_remove      BOOLEAN DEFAULT FALSE,\n    index_updated_at  TIMESTAMP WITH TIME ZONE,\n    metadata          JSONB,\n    session_time      TIMESTAMP WITH TIME ZONE,\n    created_at        TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at        TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    CONSTRAINT chk_knowledge_confidence CHECK (confidence_score >= 0.0 AND confidence_score <= 1.0)\n);\n\nCREATE INDEX IF NOT EXISTS idx_knowledge_entity_id ON knowledge_entities (entity_id);\nCREATE INDEX IF NOT EXISTS idx_knowledge_session ON knowledge_entities (source_session_id);\nCREATE INDEX IF NOT EXISTS idx_knowledge_level ON knowledge_entities (level);\nCREATE INDEX IF NOT EXISTS idx_knowledge_user ON knowledge_entities (user_id)\n    WHERE user_id IS NOT NULL;\nCREATE INDEX IF NOT EXISTS idx_knowledge_org ON knowledge_entities (organization_id)\n    WHERE organization_id IS NOT NULL;\nCREATE INDEX IF NOT EXISTS idx_knowledge_indexed ON knowledge_entities (is_indexed);\nCREATE INDEX IF NOT EXISTS idx_knowledge_to_remove ON knowledge_entities (is_to_remove);\n\n-- Nearest-neighbour search by cosine distance (`embedding <=> $1`), as deployed: ivfflat with\n-- 100 lists. Built here on an empty table, ivfflat's cluster centres mean nothing (they are\n-- computed from the rows present at build time); 005_hnsw_vector_indexes replaces these three\n-- with HNSW on every database, fresh or deployed. They stay ivfflat here so that this file\n-- builds exactly what deployed databases have, and a later file can name them on both.\nCREATE INDEX IF NOT EXISTS idx_knowledge_embedding ON knowledge_entities\n    USING ivfflat (embedding vector_cosine_ops)\n    WITH (lists = 100);\n-- Search serves only indexed, live entries of one visibility level; partial indexes whose\n-- predicates match the query's let the planner search just those rows.\nCREATE INDEX IF NOT EXISTS idx_knowledge_public_embedding ON knowledge_entities\n    USING ivfflat (embedding vector_cosine_ops)\n    WHERE level = 'public' AND is_indexed = TRUE AND is_to_remove = FALSE;\nCREATE INDEX IF NOT EXISTS idx_knowledge_org_embedding ON knowledge_entities\n    USING ivfflat (embedding vector_cosine_ops)\n    WHERE level = 'organization' AND is_indexed = TRUE AND is_to_remove = FALSE;\n\nCREATE TABLE IF NOT EXISTS knowledge_feedback (\n    id              SERIAL PRIMARY KEY,\n    knowledge_id    INTEGER NOT NULL REFERENCES knowledge_entities(id) ON DELETE CASCADE,\n    user_id         VARCHAR(255) NOT NULL,\n    helpful         BOOLEAN,\n    accuracy_rating INTEGER,\n    comment         TEXT,\n    session_id      VARCHAR(255) REFERENCES sessions(id),\n    used_in_step    INTEGER,\n    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\nCREATE INDEX IF NOT EXISTS idx_feedback_knowledge ON knowledge_feedback (knowledge_id);\nCREATE INDEX IF NOT EXISTS idx_feedback_user ON knowledge_feedback (user_id);\n\nINSERT INTO schema_versions (version, description) VALUES (4, 'Knowledge base with vector search')\nON CONFLICT (version) DO NOTHING;\n",
        "checksum": "141fbec156911ecaee6fc1f8ef6153124f402474231fb7aaa03b4c5f5fdfdeee",
        "description": "Knowledge base with vector search",
        "sql": {
          "statements": [
            {
              "text": "CREATE TABLE IF NOT EXISTS knowledge_entities (\n    id                SERIAL PRIMARY KEY,\n    entity_id         VARCHAR(255) NOT NULL UNIQUE,\n    -- Knowledge outlives the session it came from.\n    source_session_id VARCHAR(255) REFERENCES sessions(id) ON DELETE SET NULL,\n    source_type       VARCHAR(50) DEFAULT 'conversation',\n    content           TEXT NOT NULL,\n    -- OpenAI text-embedding-3-small / ada-002 dimensions.\n    embedding         vector(1536),\n    -- Who may see it: 'public', 'organization' or 'user' (no CHECK, as deployed).\n    level             VARCHAR(50) NOT NULL,\n    category          VARCHAR(100),\n    tags              JSONB,\n    confidence_score  DOUBLE PRECISION DEFAULT 0.5,\n    usage_count       INTEGER DEFAULT 0,\n    last_used_at      TIMESTAMP WITH TIME ZONE,\n    user_id           VARCHAR(255),\n    organization_id   VARCHAR(255),\n    -- Only indexed, not-to-be-removed entries are served by search.\n    is_indexed        BOOLEAN DEFAULT FALSE,\n    is_to_remove      BOOLEAN DEFAULT FALSE,\n    index_updated_at  TIMESTAMP WITH TIME ZONE,\n    metadata          JSONB,\n    session_time      TIMESTAMP WITH TIME ZONE,\n    created_at        TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at        TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    CONSTRAINT chk_knowledge_confidence CHECK (confidence_score >= 0.0 AND confidence_score <= 1.0)\n)",
              "start": 122,
              "line": 4,
              "column": 1,
              "kind": "CreateStmt",
              "relations": [
                '"knowledge_entities"',
                '"sessions"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_entity_id ON knowledge_entities (entity_id)",
              "start": 1502,
              "line": 33,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_session ON knowledge_entities (source_session_id)",
              "start": 1588,
              "line": 34,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_level ON knowledge_entities (level)",
              "start": 1680,
              "line": 35,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_user ON knowledge_entities (user_id)\n    WHERE user_id IS NOT NULL",
              "start": 1758,
              "line": 36,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_org ON knowledge_entities (organization_id)\n    WHERE organization_id IS NOT NULL",
              "start": 1867,
              "line": 38,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_indexed ON knowledge_entities (is_indexed)",
              "start": 1991,
              "line": 40,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_to_remove ON knowledge_entities (is_to_remove)",
              "start": 2076,
              "line": 41,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_embedding ON knowledge_entities\n    USING ivfflat (embedding vector_cosine_ops)\n    WITH (lists = 100)",
              "start": 2629,
              "line": 48,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_public_embedding ON knowledge_entities\n    USING ivfflat (embedding vector_cosine_ops)\n    WHERE level = 'public' AND is_indexed = TRUE AND is_to_remove = FALSE",
              "start": 2937,
              "line": 53,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_org_embedding ON knowledge_entities\n    USING ivfflat (embedding vector_cosine_ops)\n    WHERE level = 'organization' AND is_indexed = TRUE AND is_to_remove = FALSE",
              "start": 3140,
              "line": 56,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ]
            },
            {
              "text": "CREATE TABLE IF NOT EXISTS knowledge_feedback (\n    id              SERIAL PRIMARY KEY,\n    knowledge_id    INTEGER NOT NULL REFERENCES knowledge_entities(id) ON DELETE CASCADE,\n    user_id         VARCHAR(255) NOT NULL,\n    helpful         BOOLEAN,\n    accuracy_rating INTEGER,\n    comment         TEXT,\n    session_id      VARCHAR(255) REFERENCES sessions(id),\n    used_in_step    INTEGER,\n    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
              "start": 3347,
              "line": 60,
              "column": 1,
              "kind": "CreateStmt",
              "relations": [
                '"knowledge_feedback"',
                '"knowledge_entities"',
                '"sessions"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_feedback_knowledge ON knowledge_feedback (knowledge_id)",
              "start": 3802,
              "line": 72,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_feedback"'
              ]
            },
            {
              "text": "CREATE INDEX IF NOT EXISTS idx_feedback_user ON knowledge_feedback (user_id)",
              "start": 3890,
              "line": 73,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_feedback"'
              ]
            },
            {
              "text": "INSERT INTO schema_versions (version, description) VALUES (4, 'Knowledge base with vector search')\nON CONFLICT (version) DO NOTHING",
              "start": 3969,
              "line": 75,
              "column": 1,
              "kind": "InsertStmt",
              "relations": [
                '"schema_versions"'
              ]
            }
          ],
          "transactional": true,
          "ownTimeouts": false,
          "createsTemporary": false,
          "ledgerInserts": [
            {
              "start": 3969,
              "end": 4100,
              "description": "Knowledge base with vector search"
            }
          ]
        }
      },
      {
        "version": 5,
        "name": "005_hnsw_vector_indexes",
        "fileName": "005_hnsw_vector_indexes.sql",
        "path": "migrations/005_hnsw_vector_indexes.sql",
        "text": "-- wukong:no-transaction\n-- 005_hnsw_vector_indexes: the three cosine-distance indexes on knowledge_entities.embedding\n-- become HNSW, on every database: fresh ones (004 built ivfflat on an empty table) and\n-- deployed ones the old runner migrated (ivfflat, built whenever that ran).\n--\n-- Why HNSW: ivfflat computes its 100 cluster centres from the rows present when the index is\n-- built, so an index built on an empty or young table has meaningless clusters and poor\n-- recall until someone runs REINDEX; HNSW needs no training data, keeps its recall as rows\n-- arrive, and answers faster at equal recall (pgvector >= 0.5). The column, the operator\n-- class and the predicates stay the same, so queries are unchanged and use either kind.\n--\n-- Why without a transaction: a deployed table may hold many embeddings, and an HNSW build\n-- takes minutes there. CREATE INDEX CONCURRENTLY builds while reads and writes go on (it\n-- holds only a SHARE UPDATE EXCLUSIVE lock); DROP INDEX CONCURRENTLY waits for running\n-- queries instead of blocking new ones. Each statement runs and commits on its own, so\n-- every one is idempotent: re-running the file after an interruption finishes the job.\n-- The new indexes are built before the old ones are dropped, so search always has one.\n\n-- An interrupted CONCURRENTLY build leaves an INVALID index behind, which IF NOT EXISTS would\n-- then keep for good. Drop such leftovers first (a plain DROP: it holds its lock for\n-- milliseconds, and a concurrent DROP cannot run in a DO block); valid indexes are kept.\nDO $$\nDECLARE\n    leftover regclass;\nBEGIN\n    FOR leftover IN\n        SELECT i.indexrelid::regclass\n        FROM pg_index i\n        JOIN pg_class c ON c.oid = i.indexrelid\n        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()\n        WHERE NOT i.indisvalid\n          AND c.relname IN ('idx_knowledge_embedding_hnsw', 'idx_knowledge_public_embedding_hnsw',\n                            'idx_knowledge_org_embedding_hnsw')\n    LOOP\n        EXECUTE format('DROP INDEX %s', leftover);\n    END LOOP;\nEND\n$$;\n\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_embedding_hnsw ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_public_embedding_hnsw ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)\n    WHERE level = 'public' AND is_indexed = TRUE AND is_to_remove = FALSE;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_org_embedding_hnsw ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)\n    WHERE level = 'organization' AND is_indexed = TRUE AND is_to_remove = FALSE;\n\nDROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_embedding;\nDROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_public_embedding;\nDROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_org_embedding;\n\n-- The old runner's convention; through the migration provider its own row replaces it.\nINSERT INTO schema_versions (version, description) VALUES (5, 'HNSW vector indexes')\nON CONFLICT (version) DO NOTHING;\n",
        "checksum": "a9a5f43294f18b9b6594d736b554f260e0f949653dcdb9df739af77cff8db4a1",
        "description": "HNSW vector indexes",
        "sql": {
          "statements": [
            {
              "text": "DO $$\nDECLARE\n    leftover regclass;\nBEGIN\n    FOR leftover IN\n        SELECT i.indexrelid::regclass\n        FROM pg_index i\n        JOIN pg_class c ON c.oid = i.indexrelid\n        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()\n        WHERE NOT i.indisvalid\n          AND c.relname IN ('idx_knowledge_embedding_hnsw', 'idx_knowledge_public_embedding_hnsw',\n                            'idx_knowledge_org_embedding_hnsw')\n    LOOP\n        EXECUTE format('DROP INDEX %s', leftover);\n    END LOOP;\nEND\n$$",
              "start": 1549,
              "line": 22,
              "column": 1,
              "kind": "DoStmt",
              "relations": []
            },
            {
              "text": "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_embedding_hnsw ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)",
              "start": 2086,
              "line": 40,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ],
              "concurrentIndex": {
                "name": "idx_knowledge_embedding_hnsw",
                "table": '"knowledge_entities"'
              }
            },
            {
              "text": "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_public_embedding_hnsw ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)\n    WHERE level = 'public' AND is_indexed = TRUE AND is_to_remove = FALSE",
              "start": 2223,
              "line": 42,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ],
              "concurrentIndex": {
                "name": "idx_knowledge_public_embedding_hnsw",
                "table": '"knowledge_entities"'
              }
            },
            {
              "text": "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_org_embedding_hnsw ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)\n    WHERE level = 'organization' AND is_indexed = TRUE AND is_to_remove = FALSE",
              "start": 2441,
              "line": 45,
              "column": 1,
              "kind": "IndexStmt",
              "relations": [
                '"knowledge_entities"'
              ],
              "concurrentIndex": {
                "name": "idx_knowledge_org_embedding_hnsw",
                "table": '"knowledge_entities"'
              }
            },
            {
              "text": "DROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_embedding",
              "start": 2663,
              "line": 49,
              "column": 1,
              "kind": "DropStmt",
              "relations": []
            },
            {
              "text": "DROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_public_embedding",
              "start": 2722,
              "line": 50,
              "column": 1,
              "kind": "DropStmt",
              "relations": []
            },
            {
              "text": "DROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_org_embedding",
              "start": 2788,
              "line": 51,
              "column": 1,
              "kind": "DropStmt",
              "relations": []
            },
            {
              "text": "INSERT INTO schema_versions (version, description) VALUES (5, 'HNSW vector indexes')\nON CONFLICT (version) DO NOTHING",
              "start": 2940,
              "line": 54,
              "column": 1,
              "kind": "InsertStmt",
              "relations": [
                '"schema_versions"'
              ]
            }
          ],
          "transactional": false,
          "ownTimeouts": false,
          "createsTemporary": false,
          "ledgerInserts": [
            {
              "start": 2940,
              "end": 3057,
              "description": "HNSW vector indexes"
            }
          ]
        }
      }
    ];
  }
});

// src/provider/migration-timeouts.ts
function statementTimeouts(timeouts = {}) {
  const setting = (ms) => Math.max(0, Math.trunc(ms));
  return {
    lockMs: setting(timeouts.lockMs ?? DEFAULT_LOCK_TIMEOUT_MS),
    statementMs: setting(timeouts.statementMs ?? 0)
  };
}
var DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_LOCK_WAIT_TIMEOUT_MS;
var init_migration_timeouts = __esm({
  "src/provider/migration-timeouts.ts"() {
    "use strict";
    DEFAULT_LOCK_TIMEOUT_MS = 1e4;
    DEFAULT_LOCK_WAIT_TIMEOUT_MS = 3e5;
  }
});

// src/provider/adoption-check.ts
import { sql } from "kysely";
async function expectedObjects(file, later) {
  const { parseSync } = await loadSqlParser();
  const tables = /* @__PURE__ */ new Map();
  const created = /* @__PURE__ */ new Set();
  const indexes = /* @__PURE__ */ new Map();
  const indexColumns = /* @__PURE__ */ new Map();
  const effects = (text, creates) => {
    for (const raw of parseSync(text).stmts ?? []) {
      const [kind, node] = Object.entries(raw.stmt)[0];
      if (kind === "CreateStmt" && creates) {
        const table = relationName(node["relation"]);
        created.add(table);
        const columns = tables.get(table) ?? /* @__PURE__ */ new Set();
        for (const element of node["tableElts"] ?? []) {
          const column = element["ColumnDef"]?.["colname"];
          if (typeof column === "string") columns.add(column);
        }
        tables.set(table, columns);
      } else if (kind === "IndexStmt" && creates && typeof node["idxname"] === "string") {
        const table = relationName(node["relation"]);
        const index = qualified(schemaOf(table), node["idxname"]);
        indexes.set(index, table);
        const params = node["indexParams"] ?? [];
        const named = params.map((p) => p.IndexElem?.["name"]).filter((n) => typeof n === "string");
        indexColumns.set(index, new Set(named));
      } else if (kind === "AlterTableStmt") {
        const table = relationName(node["relation"]);
        for (const cmd of node["cmds"] ?? []) {
          const c = cmd.AlterTableCmd ?? {};
          const column = c["def"]?.ColumnDef?.["colname"];
          if (c["subtype"] === "AT_AddColumn" && creates && typeof column === "string") {
            tables.set(table, (tables.get(table) ?? /* @__PURE__ */ new Set()).add(column));
          } else if (c["subtype"] === "AT_DropColumn" && typeof c["name"] === "string") {
            tables.get(table)?.delete(c["name"]);
            for (const [index, on] of indexes) {
              if (on === table && indexColumns.get(index)?.has(c["name"])) indexes.delete(index);
            }
          }
        }
      } else if (kind === "DropStmt") {
        const lists = node["objects"] ?? [];
        const names = lists.map((o) => (o.List?.items ?? []).map((i) => i.String?.sval ?? ""));
        for (const parts of names) {
          const name = qualified(parts.length > 1 ? parts.at(-2) : "", parts.at(-1));
          if (node["removeType"] === "OBJECT_TABLE") {
            tables.delete(name);
            created.delete(name);
            for (const [index, table] of indexes) if (table === name) indexes.delete(index);
          } else if (node["removeType"] === "OBJECT_INDEX") {
            indexes.delete(name);
          }
        }
      } else if (kind === "RenameStmt") {
        const relation = relationName(node["relation"]);
        const to = String(node["newname"]);
        if (node["renameType"] === "OBJECT_TABLE" && tables.has(relation)) {
          const renamed = qualified(schemaOf(relation), to);
          tables.set(renamed, tables.get(relation));
          tables.delete(relation);
          if (created.delete(relation)) created.add(renamed);
          for (const [index, table] of indexes) if (table === relation) indexes.set(index, renamed);
        } else if (node["renameType"] === "OBJECT_INDEX" && indexes.has(relation)) {
          const renamed = qualified(schemaOf(relation), to);
          indexes.set(renamed, indexes.get(relation));
          indexColumns.set(renamed, indexColumns.get(relation) ?? /* @__PURE__ */ new Set());
          indexes.delete(relation);
        } else if (node["renameType"] === "OBJECT_COLUMN") {
          const from = String(node["subname"]);
          if (tables.get(relation)?.delete(from)) tables.get(relation).add(to);
          for (const [index, on] of indexes) {
            const columns = indexColumns.get(index);
            if (on === relation && columns?.delete(from)) columns.add(to);
          }
        }
      }
    }
  };
  effects(file.text, true);
  for (const next of later) effects(next.text, false);
  return Object.freeze([
    ...[...created].map((name) => ({ kind: "table", name })),
    ...[...tables].flatMap(
      ([table, columns]) => [...columns].map((c) => ({ kind: "column", name: `${table}.${c}`, table }))
    ),
    ...[...indexes].map(([name, table]) => ({ kind: "index", name, table }))
  ]);
}
async function assertAdoptable(db, file, later, description) {
  const objects = await expectedObjects(file, later);
  if (!objects.length) return;
  const values = objects.map((o, i) => {
    const [relation, column] = o.kind === "column" ? splitColumn(o.name) : [o.name, null];
    const col = column === null ? "NULL" : literal(column);
    return `(${i}, ${literal(o.kind)}, ${literal(quoteQualified(relation))}, ${col})`;
  }).join(", ");
  const { rows } = await sql.raw(`
    select i from (values ${values}) as v(i, kind, rel, col)
    where case kind
      when 'column' then not exists (select 1 from pg_attribute a
                                     where a.attrelid = to_regclass(rel) and a.attname = col
                                       and a.attnum > 0 and not a.attisdropped)
      when 'index' then not exists (select 1 from pg_class c where c.oid = to_regclass(rel) and c.relkind in ('i', 'I'))
      else not exists (select 1 from pg_class c where c.oid = to_regclass(rel) and c.relkind in ('r', 'p', 'f'))
    end
    order by i`).execute(db);
  const missing = rows.map((r) => objects[Number(r.i)]);
  const tables = new Set(missing.filter((m) => m.kind === "table").map((m) => m.name));
  const reported = missing.filter((m) => m.kind === "table" || !tables.has(m.table ?? ""));
  if (reported.length) throw new AdoptionMismatchError(file, description, reported);
}
function relationName(relation) {
  const r = relation;
  return qualified(r?.schemaname ?? "", r?.relname ?? "");
}
function qualified(schema, name) {
  return schema ? `${schema}.${name}` : name;
}
function schemaOf(name) {
  const dot = name.indexOf(".");
  return dot === -1 ? "" : name.slice(0, dot);
}
function splitColumn(name) {
  const dot = name.lastIndexOf(".");
  return [name.slice(0, dot), name.slice(dot + 1)];
}
function quoteQualified(name) {
  return name.split(".").map(quoteIdent).join(".");
}
var AdoptionMismatchError;
var init_adoption_check = __esm({
  "src/provider/adoption-check.ts"() {
    "use strict";
    init_sql_parser();
    init_sql_text();
    init_migration_error();
    AdoptionMismatchError = class extends MigrationError {
      name = "AdoptionMismatchError";
      version;
      /** What the file creates that the database lacks. */
      missing;
      constructor(file, description, missing) {
        const list = missing.map((m) => `${m.kind} ${m.name}`).join(", ");
        super(
          "ADOPTION_MISMATCH",
          `${file.fileName}: schema_versions records version ${file.version} ("${description}", written without a checksum by another runner), but the database lacks what this file creates: ${list}. Not counted as applied: the version may have been used for another change`,
          { file: file.fileName }
        );
        this.version = file.version;
        this.missing = Object.freeze([...missing]);
      }
    };
  }
});

// src/provider/ledger.ts
var ledger_exports = {};
__export(ledger_exports, {
  DEFAULT_LEDGER_SCHEMA: () => DEFAULT_LEDGER_SCHEMA,
  LEDGER_TABLES: () => LEDGER_TABLES,
  SET_MARK: () => SET_MARK,
  ensureLedgersSql: () => ensureLedgersSql,
  ledgerHome: () => ledgerHome,
  ledgerIntegritySql: () => ledgerIntegritySql,
  rawQuery: () => rawQuery,
  readLedgerSnapshot: () => readLedgerSnapshot,
  runLedger: () => runLedger
});
import { createHash as createHash3 } from "node:crypto";
import { sql as sql2 } from "kysely";
import { MIGRATION_LOCK_ID } from "kysely/migration";
function rawQuery(db) {
  return async (text) => (await sql2.raw(text).execute(db)).rows;
}
function runLedger(snapshot, trackKysely) {
  return {
    rows: new Map(snapshot.rows.map((r) => [r.version, r])),
    kysely: trackKysely ? new Set(snapshot.kysely.map((k) => k.name)) : void 0,
    home: snapshot.home,
    restoreSql: snapshot.restoreSql
  };
}
function ensureLedgersSql(home, set = false) {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(home.schema)};
CREATE TABLE IF NOT EXISTS ${home.kysely} (name varchar(255) NOT NULL PRIMARY KEY, timestamp varchar(255) NOT NULL);
CREATE TABLE IF NOT EXISTS ${home.lock} (id varchar(255) NOT NULL PRIMARY KEY, is_locked integer NOT NULL DEFAULT 0);
INSERT INTO ${home.lock} (id, is_locked) VALUES ('${MIGRATION_LOCK_ID}', 0) ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS ${home.ledger} (
  version integer PRIMARY KEY,
  description text NOT NULL,
  applied_at timestamptz DEFAULT now()
);
ALTER TABLE ${home.ledger}
  ADD COLUMN IF NOT EXISTS checksum text,
  ADD COLUMN IF NOT EXISTS file_name text,
  ADD COLUMN IF NOT EXISTS execution_ms integer,
  ADD COLUMN IF NOT EXISTS adopted_at timestamptz,
  ADD COLUMN IF NOT EXISTS atomic boolean;
COMMENT ON COLUMN ${home.ledger}.checksum IS 'SHA-256 of the file text (UTF-8, LF, no BOM); NULL: written by the old runner, not yet adopted'${set ? `;
COMMENT ON TABLE ${home.ledger} IS '${SET_MARK}'` : ""}`;
}
async function readLedgerSnapshot(db, schema, bounded = (read2) => read2(db)) {
  const { rows: first } = await sql2`
    select (select coalesce(json_agg(t order by t.schema, t.name), '[]') from (
      select n.nspname as schema, c.relname as name,
             array(select a.attname::text from pg_catalog.pg_attribute a
                    where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns,
             (select pg_catalog.format_type(a.atttypid, null) from pg_catalog.pg_attribute a
               where a.attrelid = c.oid and a.attname = 'version' and not a.attisdropped) as version_type,
             (select pg_catalog.format_type(a.atttypid, a.atttypmod) from pg_catalog.pg_attribute a
               where a.attrelid = c.oid and a.attname = 'description' and not a.attisdropped) as description_type,
             exists (select from pg_catalog.pg_index i join pg_catalog.pg_attribute a
                       on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                      where i.indrelid = c.oid and i.indisunique and i.indnatts = 1 and a.attname = 'version') as version_unique,
             coalesce(pg_catalog.obj_description(c.oid, 'pg_class') = ${SET_MARK}, false) as set
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where c.relname in ('schema_versions', 'kysely_migration', 'kysely_migration_lock')
         and c.relkind in ('r', 'p') and n.nspname <> 'information_schema' and n.nspname !~ '^pg_') t) as tables,
           (select coalesce(json_agg(json_build_array(name, pg_catalog.current_setting(name)) order by name), '[]')
              from pg_catalog.pg_settings where source = 'session' and name not in ('role', 'session_authorization')) as settings,
           pg_catalog.current_setting('role') as role, pg_catalog.current_setting('session_authorization') as auth,
           pg_catalog.pg_backend_pid() as pid`.execute(db);
  const { tables, settings, role, auth, pid: backendPid } = first[0];
  const restoreSql2 = sessionRestoreSql(settings, role, auth);
  const ledgers = tables.filter((t) => t.name !== "kysely_migration_lock");
  const sets = new Set(tables.filter((t) => t.set).map((t) => t.schema));
  const homes = schema !== void 0 ? [schema] : [...new Set(ledgers.filter((t) => !sets.has(t.schema)).map((t) => t.schema))];
  if (homes.length > 1) {
    const found = ledgers.filter((t) => !sets.has(t.schema)).map((t) => `${t.schema}.${t.name}`).join(", ");
    throw new MigrationError(
      "AMBIGUOUS_LEDGER",
      `migration ledgers exist in more than one schema (${found}); keep the ones in the schema this database was migrated in and drop the others`
    );
  }
  const home = ledgerHome(homes[0] ?? DEFAULT_LEDGER_SCHEMA);
  const otherSets = [...sets].filter((s) => s !== home.schema);
  const own = (name) => tables.find((t) => t.schema === home.schema && t.name === name);
  const ledger = own("schema_versions");
  const kysely = own("kysely_migration");
  const complete = ledger !== void 0 && kysely !== void 0 && own("kysely_migration_lock") !== void 0 && BOOKKEEPING_COLUMNS.every((c) => ledger.columns.includes(c));
  const maxVersion = ledger ? INT_MAX[ledger.version_type ?? ""] ?? 0 : INT_MAX["integer"];
  const shapeProblem = !ledger ? void 0 : maxVersion === 0 ? `its version column is ${ledger.version_type ?? "missing"}, not an integer type` : !ledger.description_type ? "it has no description column" : !ledger.version_unique ? "its version column has no primary key or unique index (two migrators could record one version twice)" : void 0;
  if (!ledger && !kysely)
    return Object.freeze({ home, complete, rows: [], kysely: [], maxVersion, restoreSql: restoreSql2, otherSets, backendPid });
  const parts = [];
  if (ledger && !shapeProblem)
    parts.push(`select to_jsonb(s) as row, null::text as name, null::text as timestamp from ${home.ledger} s`);
  if (kysely) parts.push(`select null, name::text, timestamp::text from ${home.kysely}`);
  const { rows } = parts.length ? await bounded((c) => sql2`${sql2.raw(parts.join(" union all "))}`.execute(c)) : { rows: [] };
  const ledgerRows = rows.filter((r) => r.row).map((r) => toLedgerRow(r.row)).sort((a, b) => a.version - b.version);
  const kyselyRows = rows.filter((r) => !r.row).map((r) => Object.freeze({ name: r.name, timestamp: r.timestamp }));
  return Object.freeze({
    home,
    complete,
    rows: ledgerRows,
    kysely: kyselyRows,
    maxVersion,
    restoreSql: restoreSql2,
    otherSets,
    backendPid,
    shapeProblem: shapeProblem && `${home.ledger} cannot be used as the ledger: ${shapeProblem}`
  });
}
function ledgerIntegritySql({ home, rows, kysely: names }) {
  const ledger = [...rows.values()].sort((a, b) => a.version - b.version).map((r) => `${r.version}:${r.checksum ?? ""}`).join(",");
  const digestOf = (expression, text) => `pg_catalog.md5(coalesce(${expression}, '')) <> ${literal(createHash3("md5").update(text, "utf8").digest("hex"))}`;
  const checks = [
    digestOf(
      `(select pg_catalog.string_agg(version::text || ':' || coalesce(checksum, ''), ',' order by version) from ${home.ledger})`,
      ledger
    )
  ];
  if (names) {
    const kysely = [...names].sort((a, b) => a < b ? -1 : a > b ? 1 : 0).join(",");
    checks.push(
      digestOf(`(select pg_catalog.string_agg(name::text, ',' order by name collate "C") from ${home.kysely})`, kysely)
    );
  }
  return `DO $wukong$ BEGIN IF ${checks.join(" OR ")} THEN RAISE EXCEPTION USING ERRCODE = '${SQLSTATE.LEDGER_INTEGRITY}', MESSAGE = 'the migration ledgers changed while the file ran: it wrote to schema_versions or kysely_migration (SQL the parser cannot see, e.g. built at run time); the file was rolled back'; END IF; END $wukong$`;
}
function sessionRestoreSql(settings, role, auth) {
  const parts = ["RESET ALL"];
  if (settings.length) {
    const calls = settings.map(([name, value]) => `pg_catalog.set_config(${literal(name)}, ${literal(value)}, false)`);
    parts.push(`SELECT ${calls.join(", ")}`);
  }
  parts.push(auth === "" ? "SET SESSION AUTHORIZATION DEFAULT" : `SET SESSION AUTHORIZATION ${quoteIdent(auth)}`);
  parts.push(role === "none" || role === "" ? "SET ROLE NONE" : `SET ROLE ${quoteIdent(role)}`);
  return parts.join(";\n");
}
var BOOKKEEPING_COLUMNS, INT_MAX;
var init_ledger = __esm({
  "src/provider/ledger.ts"() {
    "use strict";
    init_migration_error();
    init_sql_state();
    init_ledger_names();
    init_sql_text();
    init_ledger_row();
    init_ledger_names();
    BOOKKEEPING_COLUMNS = ["checksum", "file_name", "execution_ms", "adopted_at", "atomic"];
    INT_MAX = {
      smallint: 32767,
      integer: 2147483647,
      bigint: Number.MAX_SAFE_INTEGER
    };
  }
});

// src/provider/migration-sql-error.ts
function isServerError(error) {
  return error instanceof Error && typeof error.code === "string" && /^[0-9A-Z]{5}$/.test(error.code);
}
function codeForServerError(sqlState, message) {
  if (sqlState === void 0) return "CONNECTION_FAILED";
  if (sqlState === SQLSTATE.LOCK_NOT_AVAILABLE) return "LOCK_TIMEOUT";
  if (sqlState === SQLSTATE.LEDGER_INTEGRITY) return "LEDGER_WRITE";
  if (sqlState === SQLSTATE.QUERY_CANCELED) return /lock timeout/i.test(message) ? "LOCK_TIMEOUT" : "STATEMENT_TIMEOUT";
  if (sqlState === SQLSTATE.INSUFFICIENT_PRIVILEGE) return "PERMISSION_DENIED";
  if (sqlState === SQLSTATE.READ_ONLY_SQL_TRANSACTION) return "READ_ONLY_DATABASE";
  const noExtension = [SQLSTATE.FEATURE_NOT_SUPPORTED, SQLSTATE.UNDEFINED_FILE];
  if (noExtension.includes(sqlState) && /extension/i.test(message)) return "MISSING_EXTENSION";
  const shutdown = [SQLSTATE.ADMIN_SHUTDOWN, SQLSTATE.CRASH_SHUTDOWN, SQLSTATE.CANNOT_CONNECT_NOW];
  return sqlState.startsWith("08") || shutdown.includes(sqlState) ? "CONNECTION_FAILED" : "MIGRATION_FAILED";
}
function worthLocating(sqlState) {
  if (sqlState === void 0) return false;
  const pointless = [
    SQLSTATE.QUERY_CANCELED,
    SQLSTATE.LOCK_NOT_AVAILABLE,
    SQLSTATE.DEADLOCK_DETECTED,
    SQLSTATE.SERIALIZATION_FAILURE,
    SQLSTATE.IN_FAILED_SQL_TRANSACTION,
    SQLSTATE.READ_ONLY_SQL_TRANSACTION,
    SQLSTATE.LEDGER_INTEGRITY
  ];
  return !pointless.includes(sqlState) && !sqlState.startsWith("08") && !sqlState.startsWith("57");
}
function toMigrationError(error, fileName, text, offset) {
  if (error instanceof MigrationError) return error;
  const pg4 = error;
  const sqlState = isServerError(error) ? pg4.code : void 0;
  if (sqlState === SQLSTATE.READ_ONLY_SQL_TRANSACTION) return readOnlyError(error);
  const message = error instanceof Error ? error.message : String(error);
  return new MigrationSqlError(
    codeForServerError(sqlState, message),
    message,
    fileName,
    text,
    offset,
    { sqlState, detail: pg4.detail, hint: pg4.hint, where: pg4.where },
    error
  );
}
function readOnlyError(error) {
  return new MigrationError(
    "READ_ONLY_DATABASE",
    `the database is read-only (${error.message}): it is a standby, or default_transaction_read_only is on; nothing was applied; migrate the primary (read-write) server (SQLSTATE 25006)`,
    { cause: error }
  );
}
var MigrationSqlError;
var init_migration_sql_error = __esm({
  "src/provider/migration-sql-error.ts"() {
    "use strict";
    init_migration_error();
    init_sql_text();
    init_sql_state();
    MigrationSqlError = class extends MigrationError {
      name = "MigrationSqlError";
      server;
      sourceLine;
      constructor(code2, message, file, text, offset, server, cause) {
        const at = text !== void 0 && offset !== void 0 ? lineColumnAt(text, offset) : void 0;
        super(code2, message, { file, line: at?.line, column: at?.column, sqlState: server.sqlState, cause });
        this.server = Object.freeze({ ...server });
        this.sourceLine = at && text !== void 0 ? lineOf(text, at.line) : void 0;
      }
    };
  }
});

// src/provider/session-summary.ts
function describeSession(session) {
  const parts = [];
  if (session.applicationName) parts.push(`application_name "${session.applicationName}"`);
  if (session.state) parts.push(session.state);
  if (session.query) parts.push(`query: ${blankLiterals(session.query)}`);
  return `backend pid ${session.pid}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}
function blankLiterals(query) {
  const blanked = query.replace(/\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?(\$\1\$|$)/g, "$\u2026$").replace(/[EeBbXxUu]?&?'(?:[^']|'')*('|$)/g, "'\u2026'").replace(/\b\d+(\.\d+)?\b/g, "\u2026").replace(/\s+/g, " ").trim();
  return blanked.length > QUERY_SHOWN ? `${blanked.slice(0, QUERY_SHOWN)}\u2026` : blanked;
}
var QUERY_SHOWN;
var init_session_summary = __esm({
  "src/provider/session-summary.ts"() {
    "use strict";
    QUERY_SHOWN = 120;
  }
});

// src/provider/lock-holders.ts
import { sql as sql3 } from "kysely";
async function lockHolders(db, relations) {
  if (relations.length === 0) return [];
  const { rows } = await sql3`
    with wanted as (
      select r as relation, to_regclass(r) as oid from unnest(${sql3.val([...relations])}::text[]) r
    )
    select l.pid, a.state, a.application_name as "applicationName", a.query, w.relation, l.mode
    from pg_locks l
    join wanted w on w.oid = l.relation
    left join pg_stat_activity a on a.pid = l.pid
    where l.granted and l.pid <> pg_backend_pid()
      and l.database = (select oid from pg_database where datname = current_database())
    order by case l.mode when 'AccessExclusiveLock' then 0 when 'ExclusiveLock' then 1 else 2 end, l.pid
    limit 5`.execute(db);
  return rows;
}
function describeHolders(holders) {
  const first = holders[0];
  if (!first) return void 0;
  const more = holders.length > 1 ? ` and ${holders.length - 1} more session${holders.length > 2 ? "s" : ""}` : "";
  return `${first.relation} is locked (${first.mode}) by ${describeSession(first)}${more}`;
}
var init_lock_holders = __esm({
  "src/provider/lock-holders.ts"() {
    "use strict";
    init_session_summary();
  }
});

// src/provider/apply-migration.ts
var apply_migration_exports = {};
__export(apply_migration_exports, {
  applyDown: () => applyDown,
  applyUp: () => applyUp,
  applyUpBatch: () => applyUpBatch
});
import { sql as sql4 } from "kysely";
async function applyUp(db, file, ledger, limits, files = [file], timestamp) {
  const started = performance.now();
  const done = (kind, atomic) => applyEvent(kind, file, atomic, performance.now() - started);
  const record = timestamp === void 0 ? void 0 : kyselyInsert(ledger, file.name, timestamp);
  const existing = ledger.rows.get(file.version);
  if (existing) return done(await adopt(db, file, existing, ledger, files, record), existing.atomic ?? true);
  const table = ledger.home.ledger;
  if (!file.sql.transactional) {
    const builds = file.sql.statements.filter((s) => s.concurrentIndex);
    const invalidBefore = new Set((await invalidIndexes(db, builds)).map((i) => i.oid));
    await runOneByOne(db, file, ledger, limits);
    await assertIndexesValid(db, file, builds, invalidBefore);
    try {
      await sql4.raw(ledgerInsert(table, file, false, `${Math.round(performance.now() - started)}`)).execute(db);
    } catch (error) {
      if (!isLedgerConflict(error)) throw toMigrationError(error, file.fileName);
      return done(await adoptConcurrent(db, file, ledger, files, record), false);
    }
    ledger.rows.set(file.version, pendingRow(file, false));
    if (record) await recordInKysely(db, file, record, ledger);
    await assertLedgersIntact(db, file, ledger);
    return done("applied", false);
  }
  const elapsed = executionMs(table, file, "pg_catalog.statement_timestamp()");
  try {
    await runAtomically(db, file, file, ledger, limits, {
      head: `${ledgerInsert(table, file, true, "NULL")};
`,
      tail: record ? `${elapsed};
${record}` : elapsed,
      row: pendingRow(file, true)
    });
  } catch (error) {
    if (!isLedgerConflict(error)) throw error;
    return done(await adoptConcurrent(db, file, ledger, files, record), true);
  }
  return done("applied", true);
}
async function applyUpBatch(db, batch, ledger, limits, onCommitted) {
  const started = performance.now();
  const table = ledger.home.ledger;
  const view = copyOf(ledger);
  const text = batch.map(({ file, timestamp }) => {
    commit(view, file, pendingRow(file, true));
    return [
      "BEGIN;",
      `${limitSettings(limits, "LOCAL")}${ledgerInsert(table, file, true, "NULL", "pg_catalog.clock_timestamp()")};`,
      blankLedgerInserts(file),
      ";",
      `${restoreSql(ledger, file)};`,
      `${executionMs(table, file, "applied_at")};`,
      `${kyselyInsert(ledger, file.name, timestamp)};`,
      `${ledgerIntegritySql(view)};`,
      "COMMIT;"
    ].join("\n");
  }).join("\n");
  let done = batch.length;
  try {
    await sql4.raw(text).execute(db);
  } catch (error) {
    await sql4.raw("ROLLBACK").execute(db).catch(() => {
    });
    let versions;
    try {
      const { rows } = await sql4`
        select version from ${sql4.raw(table)} where version = any(${batch.map((b) => b.file.version)}::int[])`.execute(
        db
      );
      versions = new Set(rows.map((r) => r.version));
    } catch {
      throw error;
    }
    done = batch.findIndex((b) => !versions.has(b.file.version));
    if (done < 0) done = batch.length;
  }
  const share = (performance.now() - started) / batch.length;
  for (const { file } of batch.slice(0, done)) {
    commit(ledger, file, pendingRow(file, true));
    onCommitted?.(applyEvent("applied", file, true, share));
  }
  return done;
}
async function applyDown(db, file, ledger, limits) {
  const started = performance.now();
  const down = file.down;
  const forget = `DELETE FROM ${ledger.home.ledger} WHERE version = ${file.version}` + (ledger.kysely ? `;
DELETE FROM ${ledger.home.kysely} WHERE name = ${literal(file.name)}` : "");
  if (down.sql.transactional) {
    await runAtomically(db, file, down, ledger, limits, { head: "", tail: forget, row: void 0 });
  } else {
    await runOneByOne(db, down, ledger, limits);
    await sql4.raw(forget).execute(db);
    commit(ledger, file, void 0);
    await assertLedgersIntact(db, file, ledger);
  }
  return applyEvent("reverted", file, down.sql.transactional, performance.now() - started, down.fileName);
}
function applyEvent(kind, file, atomic, durationMs, fileName = file.fileName) {
  return Object.freeze({ kind, version: file.version, name: file.name, fileName, atomic, durationMs });
}
function limitSettings(limits, scope) {
  return `SET ${scope} lock_timeout = ${limits.lockMs};
SET ${scope} statement_timeout = ${limits.statementMs};
`;
}
function restoreSql(ledger, sqlFile) {
  return sqlFile.sql.createsTemporary ? `${ledger.restoreSql};
DISCARD TEMP` : ledger.restoreSql;
}
async function runAtomically(db, file, sqlFile, ledger, limits, step) {
  const after = copyOf(ledger);
  commit(after, file, step.row);
  const savepoint = db.isTransaction;
  const start = `${savepoint ? "SAVEPOINT wukong_migration_file;\n" : ""}${limitSettings(limits, "LOCAL")}${step.head}`;
  const batch = `${start}${blankLedgerInserts(sqlFile)}
;
${restoreSql(ledger, sqlFile)};
${step.tail};
${ledgerIntegritySql(after)}${savepoint ? ";\nRELEASE SAVEPOINT wukong_migration_file" : ""}`;
  try {
    await sql4.raw(batch).execute(db);
  } catch (error) {
    if (savepoint)
      await sql4.raw("ROLLBACK TO SAVEPOINT wukong_migration_file").execute(db).catch(() => {
      });
    if (isLedgerConflict(error) && !savepoint) throw error;
    throw await explain(db, error, sqlFile, batch, start.length, limits);
  }
  commit(ledger, file, step.row);
}
async function runOneByOne(db, sqlFile, ledger, limits) {
  if (db.isTransaction) {
    throw new MigrationError(
      "NON_TRANSACTIONAL_IN_TRANSACTION",
      `this file opted out of transactions (-- wukong:no-transaction) but the Migrator runs every migration in one transaction; use MigrationRunner, or new Migrator({ \u2026, disableTransactions: true })`,
      { file: sqlFile.fileName }
    );
  }
  await sql4.raw(limitSettings(limits, "SESSION")).execute(db);
  let failed = true;
  try {
    for (const statement of sqlFile.sql.statements) {
      if (isLedgerInsert(sqlFile, statement)) continue;
      if (statement.concurrentIndex) await dropInvalidLeftover(db, statement.concurrentIndex);
      await runOrExplain(db, sqlFile, statement);
    }
    failed = false;
  } finally {
    await sql4.raw(restoreSql(ledger, sqlFile)).execute(db).catch((error) => {
      if (!failed) throw error;
    });
  }
}
function commit(ledger, file, row2) {
  if (row2) {
    ledger.rows.set(file.version, row2);
    ledger.kysely?.add(file.name);
  } else {
    ledger.rows.delete(file.version);
    ledger.kysely?.delete(file.name);
  }
}
function copyOf(ledger) {
  return { ...ledger, rows: new Map(ledger.rows), kysely: ledger.kysely && new Set(ledger.kysely) };
}
async function assertLedgersIntact(db, file, ledger) {
  try {
    await sql4.raw(ledgerIntegritySql(ledger)).execute(db);
  } catch (error) {
    if (error.code !== SQLSTATE.LEDGER_INTEGRITY) throw toMigrationError(error, file.fileName);
    throw new MigrationError(
      "LEDGER_WRITE",
      "the migration ledgers hold something other than this run wrote: the file (not atomic, its statements committed) wrote to schema_versions or kysely_migration in a way no parse can see; compare wukong-migrate status with the database and repair the ledgers by hand",
      { file: file.fileName, sqlState: SQLSTATE.LEDGER_INTEGRITY }
    );
  }
}
async function adopt(db, file, existing, ledger, files, record) {
  if (existing.checksum !== null) {
    if (record) await sql4.raw(record).execute(db);
    if (record) ledger.kysely?.add(file.name);
    return "healed";
  }
  const later = files.filter((f) => f.version > file.version && ledger.rows.has(f.version));
  await assertAdoptable(db, file, later, existing.description);
  await sql4.raw(
    `UPDATE ${ledger.home.ledger} SET checksum = ${literal(file.checksum)}, file_name = ${literal(file.fileName)}, adopted_at = now(), atomic = coalesce(atomic, true) WHERE version = ${file.version}${record ? `;
${record}` : ""}`
  ).execute(db);
  ledger.rows.set(file.version, { ...existing, checksum: file.checksum, fileName: file.fileName });
  if (record) ledger.kysely?.add(file.name);
  return "adopted";
}
async function adoptConcurrent(db, file, ledger, files, record) {
  const { rows } = await sql4`select checksum, description from ${sql4.raw(ledger.home.ledger)} where version = ${file.version}`.execute(db);
  const { checksum = null, description = "" } = rows[0] ?? {};
  if (checksum !== null && checksum !== file.checksum) {
    throw new MigrationError(
      "CHECKSUM_MISMATCH",
      `another migrator applied version ${file.version} with checksum ${checksum}, but this file's checksum is ${file.checksum}`,
      { file: file.fileName }
    );
  }
  const row2 = { ...pendingRow(file, true), checksum, description };
  ledger.rows.set(file.version, row2);
  return adopt(db, file, row2, ledger, files, record);
}
function kyselyInsert(ledger, name, timestamp) {
  return `INSERT INTO ${ledger.home.kysely} (name, timestamp) VALUES (${literal(name)}, ${literal(timestamp)}) ON CONFLICT (name) DO NOTHING`;
}
async function recordInKysely(db, file, record, ledger) {
  try {
    await sql4.raw(record).execute(db);
  } catch (error) {
    const cause = toMigrationError(error, file.fileName);
    throw new MigrationError(
      "BOOKKEEPING_FAILED",
      `applied (schema_versions records version ${file.version}), but Kysely could not record it in kysely_migration: ${cause.reason}`,
      { file: file.fileName, sqlState: cause.sqlState, cause }
    );
  }
  ledger.kysely?.add(file.name);
}
function pendingRow(file, atomic) {
  const { version, description, checksum, fileName } = file;
  return { version, description, appliedAt: null, checksum, fileName, executionMs: null, adoptedAt: null, atomic };
}
function ledgerInsert(table, file, atomic, executionMs2, appliedAt = "pg_catalog.statement_timestamp()") {
  return `INSERT INTO ${table} (version, description, applied_at, checksum, file_name, atomic, execution_ms) VALUES (${file.version}, ${literal(file.description)}, ${appliedAt}, ${literal(file.checksum)}, ${literal(file.fileName)}, ${atomic}, ${executionMs2})`;
}
function executionMs(table, file, since) {
  return `UPDATE ${table} SET execution_ms = pg_catalog.round(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - ${since}) * 1000) WHERE version = ${file.version}`;
}
function isLedgerInsert(sqlFile, statement) {
  return sqlFile.sql.ledgerInserts.some((i) => i.start === statement.start);
}
function blankLedgerInserts(sqlFile) {
  let text = sqlFile.text;
  for (const { start, end } of sqlFile.sql.ledgerInserts) {
    text = text.slice(0, start) + text.slice(start, end).replace(/[^\r\n]/g, " ") + text.slice(end);
  }
  return text;
}
function isLedgerConflict(error) {
  return isServerError(error) && error.code === SQLSTATE.UNIQUE_VIOLATION && error.constraint === "schema_versions_pkey";
}
async function runOrExplain(db, sqlFile, statement) {
  try {
    await sql4.raw(statement.text).execute(db);
  } catch (error) {
    if (isLockTimeout(error)) throw await lockTimeoutError(db, error, sqlFile, [statement]);
    const position = Number(error.position);
    const at = statement.start + (position > 0 ? indexOfCodePoint(statement.text, position - 1) : 0);
    throw toMigrationError(error, sqlFile.fileName, sqlFile.text, at);
  }
}
function isLockTimeout(error) {
  return isServerError(error) && (error.code === SQLSTATE.LOCK_NOT_AVAILABLE || error.code === SQLSTATE.QUERY_CANCELED && /lock timeout/i.test(error.message));
}
async function lockTimeoutError(db, error, sqlFile, candidates) {
  const relations = [.../* @__PURE__ */ new Set([...candidates.flatMap((s) => s.relations), ...LEDGER_TABLES])];
  const holders = await lockHolders(db, relations).catch(() => []);
  const held2 = new Set(holders.map((h) => h.relation));
  const culprit = candidates.length === 1 ? candidates[0] : candidates.find((s) => s.relations.some((r) => held2.has(r)));
  const mine = culprit ? holders.filter((h) => culprit.relations.includes(h.relation)) : holders;
  const who = describeHolders(mine.length ? mine : holders);
  const pg4 = error;
  return new MigrationSqlError(
    "LOCK_TIMEOUT",
    who ? `${pg4.message}: ${who}` : pg4.message,
    sqlFile.fileName,
    sqlFile.text,
    culprit?.start,
    {
      sqlState: pg4.code,
      detail: pg4.detail ?? (who ? `${who[0].toUpperCase()}${who.slice(1)}` : void 0),
      hint: pg4.hint,
      where: pg4.where
    },
    error
  );
}
async function explain(db, error, sqlFile, batch, offset, limits) {
  const { fileName, text } = sqlFile;
  const position = Number(error.position);
  if (position > 0) {
    const at = indexOfCodePoint(batch, position - 1) - offset;
    return toMigrationError(error, fileName, text, at >= 0 && at < text.length ? at : void 0);
  }
  const statements = sqlFile.sql.statements.filter((s) => !isLedgerInsert(sqlFile, s));
  if (isLockTimeout(error)) return lockTimeoutError(db, error, sqlFile, statements);
  if (!worthLocating(isServerError(error) ? error.code : void 0)) return toMigrationError(error, fileName);
  const [begin, end] = db.isTransaction ? ["SAVEPOINT wukong_locate", "ROLLBACK TO SAVEPOINT wukong_locate"] : ["BEGIN", "ROLLBACK"];
  let culprit;
  try {
    await sql4.raw(`${begin};
${limitSettings(limits, "LOCAL")}`).execute(db);
    for (const statement of statements) {
      try {
        await sql4.raw(statement.text).execute(db);
      } catch (replayed) {
        if (worthLocating(isServerError(replayed) ? replayed.code : void 0)) culprit = statement;
        break;
      }
    }
  } catch {
  } finally {
    await sql4.raw(end).execute(db).catch(() => {
    });
  }
  return toMigrationError(error, fileName, text, culprit?.start);
}
async function invalidIndexes(db, builds) {
  const tables = [...new Set(builds.map((s) => s.concurrentIndex.table))];
  if (tables.length === 0) return [];
  const { rows } = await sql4`
    select i.indexrelid::int8 as oid, format('%I.%I', n.nspname, c.relname) as name
    from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
    where not i.indisvalid and i.indrelid = any(array(select to_regclass(t) from unnest(${sql4.val(tables)}::text[]) t))`.execute(
    db
  );
  return rows.map((r) => ({ oid: Number(r.oid), name: r.name }));
}
async function indexNamed(db, index) {
  if (index.name === void 0) return void 0;
  const { rows } = await sql4`
    select format('%I.%I', n.nspname, c.relname) as name, i.indisvalid as valid
    from pg_class t
    join pg_class c on c.relnamespace = t.relnamespace and c.relname = ${index.name}
    join pg_namespace n on n.oid = c.relnamespace
    join pg_index i on i.indexrelid = c.oid and i.indrelid = t.oid
    where t.oid = to_regclass(${index.table})`.execute(db);
  return rows[0];
}
async function dropInvalidLeftover(db, index) {
  const existing = await indexNamed(db, index);
  if (existing && !existing.valid) await sql4.raw(`DROP INDEX CONCURRENTLY IF EXISTS ${existing.name}`).execute(db);
}
async function assertIndexesValid(db, file, builds, before) {
  if (builds.length === 0) return;
  const bad = [];
  for (const statement of builds) {
    const index = await indexNamed(db, statement.concurrentIndex);
    if (index && !index.valid) bad.push({ statement, name: index.name });
    if (!index && statement.concurrentIndex.name !== void 0) {
      const { name, table } = statement.concurrentIndex;
      throw new MigrationError(
        "INVALID_INDEX",
        `no index "${name}" exists on ${table} after the file ran (another relation of that schema has the name, so IF NOT EXISTS skipped the build); the file is not recorded as applied; rename the index in the file, or drop the other relation`,
        { file: file.fileName, ...lineColumnAt(file.text, statement.start) }
      );
    }
  }
  for (const index of await invalidIndexes(db, builds)) {
    if (!before.has(index.oid) && !bad.some((b) => b.name === index.name)) bad.push({ name: index.name });
  }
  const [first] = bad;
  if (!first) return;
  const at = first.statement ? lineColumnAt(file.text, first.statement.start) : void 0;
  const repair = bad.map((b) => `DROP INDEX CONCURRENTLY IF EXISTS ${b.name};`).join(" ");
  throw new MigrationError(
    "INVALID_INDEX",
    `index ${bad.map((b) => b.name).join(", ")} is INVALID after the file ran (a concurrent build was interrupted or failed), so the file is not recorded as applied; repair: ${repair} then run migrate again`,
    { file: file.fileName, line: at?.line, column: at?.column }
  );
}
var init_apply_migration = __esm({
  "src/provider/apply-migration.ts"() {
    "use strict";
    init_adoption_check();
    init_ledger();
    init_migration_error();
    init_migration_sql_error();
    init_lock_holders();
    init_sql_text();
    init_sql_state();
  }
});

// src/provider/with-lock-timeout.ts
import { sql as sql5 } from "kysely";
async function withLockTimeout(db, lockTimeoutMs, body, options = {}) {
  if (lockTimeoutMs === void 0) return body(db);
  const ms = Math.max(0, Math.trunc(lockTimeoutMs));
  if (options.preset) {
    return body(db).catch(async (error) => {
      throw await explainLockTimeout(db, error, ms);
    });
  }
  const run2 = async (conn) => {
    const { rows } = await sql5`
      select current_setting('lock_timeout') as previous, set_config('lock_timeout', ${`${ms}ms`}, false)`.execute(conn);
    try {
      return await body(conn);
    } catch (error) {
      throw await explainLockTimeout(conn, error, ms);
    } finally {
      await sql5`select set_config('lock_timeout', ${rows[0].previous}, false)`.execute(conn).catch(() => {
      });
    }
  };
  return db.isTransaction || options.sameConnection ? run2(db) : db.connection().execute(run2);
}
async function explainLockTimeout(db, error, ms) {
  if (errorCode(error) !== SQLSTATE.LOCK_NOT_AVAILABLE) return error;
  const holders = await lockHolders(db, LEDGER_TABLES).catch(() => []);
  const who = describeHolders(holders) ?? "another session held one of schema_versions, kysely_migration, kysely_migration_lock";
  return new MigrationError(
    "LOCK_TIMEOUT",
    `waited ${ms} ms (the lock timeout) to read or create the migration ledger, and ${who}; no file was applied: end that session or its transaction, or raise the lock timeout`,
    { cause: error }
  );
}
var init_with_lock_timeout = __esm({
  "src/provider/with-lock-timeout.ts"() {
    "use strict";
    init_ledger();
    init_lock_holders();
    init_migration_error();
    init_sql_state();
  }
});

// src/provider/run-migrations.ts
var run_migrations_exports = {};
__export(run_migrations_exports, {
  DEFAULT_MAX_BATCH_FILES: () => DEFAULT_MAX_BATCH_FILES,
  readForRun: () => readForRun,
  runMigrations: () => runMigrations
});
import { sql as sql6 } from "kysely";
async function readForRun(db, schema, lockMs, own = (query) => query) {
  const bounded = (body) => own(withLockTimeout(db, lockMs, body, { sameConnection: true }));
  const snapshot = await own(readLedgerSnapshot(db, schema, bounded));
  const ensureSql = ensureLedgersSql(snapshot.home, schema !== void 0);
  const ensure = async () => snapshot.complete || bounded((c) => sql6.raw(ensureSql).execute(c));
  return { snapshot, ensure };
}
async function runMigrations(db, files, options) {
  const { snapshot, ensure } = await readForRun(db, options.schema, options.timeouts.lockMs, options.ownQuery);
  const session = options.session;
  if (session) session.backendPid = snapshot.backendPid;
  const steps = planSteps(files, planMigrations(files, snapshot, options), options.target);
  const ledger = runLedger(snapshot, true);
  const events = [];
  const end = (failed, error) => Object.freeze({ steps, events, failed, error, versions: new Set(ledger.rows.keys()) });
  if (steps.length === 0) return end();
  if (options.signal?.aborted) return end(steps[0], interruption(steps[0]));
  await ensure();
  let lastAt = snapshot.kysely.reduce((max, k) => Math.max(max, new Date(k.timestamp).getTime() || 0), 0);
  const stamp = () => {
    lastAt = Math.max(Date.now(), lastAt + 1);
    return new Date(lastAt).toISOString();
  };
  const report = (event) => {
    events.push(event);
    options.onApply?.(event);
  };
  const running = async (names, body) => {
    if (session) session.running = names;
    try {
      return await body;
    } finally {
      if (session) session.running = [];
    }
  };
  const maxBatch = options.maxBatchFiles ?? DEFAULT_MAX_BATCH_FILES;
  for (let i = 0; i < steps.length; ) {
    if (options.signal?.aborted) return end(steps[i], interruption(steps[i]));
    const batch = [];
    let bytes = 0;
    for (let j = i; j < steps.length && batch.length < maxBatch && bytes < MAX_BATCH_BYTES; j++) {
      const { file: file2, action } = steps[j];
      if (action !== "apply" || !file2.sql.transactional) break;
      batch.push({ file: file2, timestamp: stamp() });
      bytes += file2.text.length;
    }
    if (batch.length > 1) {
      try {
        const names = batch.map((b) => b.file.fileName);
        const done = await running(names, applyUpBatch(db, batch, ledger, options.timeouts, report));
        i += done;
        if (done === batch.length) continue;
        if (options.signal?.aborted) return end(steps[i], interruption(steps[i], true));
      } catch (error) {
        return end(steps[i], error);
      }
    }
    const step = steps[i];
    const { file } = step;
    try {
      const revert = step.action === "revert";
      const applying = revert ? applyDown(db, file, ledger, options.timeouts) : applyUp(db, file, ledger, options.timeouts, files, stamp());
      report(await running([(revert ? file.down : file).fileName], applying));
      i++;
    } catch (error) {
      return end(step, error);
    }
  }
  return end();
}
function interruption(step, canceled = false) {
  const { fileName } = step.action === "revert" ? step.file.down : step.file;
  return canceled ? new MigrationError(
    "INTERRUPTED",
    `interrupted: ${fileName} was canceled on the server; its transaction rolled back, nothing of it was applied`,
    { file: fileName }
  ) : new MigrationError("INTERRUPTED", `interrupted before ${fileName} started`);
}
var DEFAULT_MAX_BATCH_FILES, MAX_BATCH_BYTES;
var init_run_migrations = __esm({
  "src/provider/run-migrations.ts"() {
    "use strict";
    init_apply_migration();
    init_migration_error();
    init_ledger();
    init_migration_plan();
    init_with_lock_timeout();
    DEFAULT_MAX_BATCH_FILES = 100;
    MAX_BATCH_BYTES = 4 * 1024 * 1024;
  }
});

// src/provider/sql-file-migration-provider.ts
function providerFor(options) {
  const { migrationFolder, ledgerSchema, allowDrift, timeouts, onApply } = options;
  return new SqlFileMigrationProvider({
    migrationFolder,
    ledgerSchema,
    allowDrift,
    timeouts,
    onApply
  });
}
var SqlFileMigrationProvider;
var init_sql_file_migration_provider = __esm({
  "src/provider/sql-file-migration-provider.ts"() {
    "use strict";
    init_migration_plan();
    init_read_migration_folder();
    init_wukong_migrations();
    init_migration_error();
    init_migration_timeouts();
    SqlFileMigrationProvider = class {
      #props;
      #timeouts;
      // Keyed by `db`: the Migrator hands every migration of one run the same one, under its lock.
      #runs = /* @__PURE__ */ new WeakMap();
      // Parsed SQL by file and checksum: what verify() parsed is what migrate() applies.
      #parsed = /* @__PURE__ */ new Map();
      constructor(props = {}) {
        this.#props = Object.freeze({ ...props });
        this.#timeouts = statementTimeouts(props.timeouts);
      }
      get migrationFolder() {
        return this.#props.migrationFolder;
      }
      // Without the SQL parser: what the boot-time up-to-date check needs.
      scanFiles() {
        const folder = this.#props.migrationFolder;
        if (folder === void 0) return WUKONG_MIGRATIONS;
        return scanMigrationFolder(folder);
      }
      async loadFiles() {
        return this.parseFiles(this.scanFiles());
      }
      // The bundled migrations were parsed at build time.
      async parseFiles(heads) {
        if (this.#props.migrationFolder === void 0) return WUKONG_MIGRATIONS.filter((f) => heads.includes(f));
        return parseMigrationFiles(heads, { memo: this.#parsed });
      }
      async getMigrations() {
        const files = await this.loadFiles();
        const migrations = {};
        for (const file of files) {
          const down = file.down;
          migrations[file.name] = {
            up: async (db) => {
              const { applyUp: applyUp2 } = await Promise.resolve().then(() => (init_apply_migration(), apply_migration_exports));
              this.#report(await applyUp2(db, file, await this.#ledgerFor(db, files), this.#timeouts, files));
            },
            // Always defined: Kysely's Migrator skips a missing down() and still forgets the file.
            down: async (db) => {
              const message = `cannot revert: no .down.sql file (write ${file.name}.down.sql)`;
              if (!down) throw new MigrationError("NO_DOWN_FILE", message, { file: file.fileName });
              const { applyDown: applyDown2 } = await Promise.resolve().then(() => (init_apply_migration(), apply_migration_exports));
              this.#report(await applyDown2(db, file, await this.#ledgerFor(db, files), this.#timeouts));
            }
          };
        }
        return migrations;
      }
      #report(event) {
        this.#props.onApply?.(event);
      }
      #ledgerFor(db, files) {
        let run2 = this.#runs.get(db);
        if (!run2) {
          run2 = (async () => {
            const [{ readForRun: readForRun2 }, { runLedger: runLedger2 }] = await Promise.all([
              Promise.resolve().then(() => (init_run_migrations(), run_migrations_exports)),
              Promise.resolve().then(() => (init_ledger(), ledger_exports))
            ]);
            const { ledgerSchema, allowDrift } = this.#props;
            const { snapshot, ensure } = await readForRun2(db, ledgerSchema, this.#timeouts.lockMs);
            const { refusal } = planMigrations(files, snapshot, { allowDrift });
            if (refusal) throw refusal;
            await ensure();
            return runLedger2(snapshot, false);
          })();
          this.#runs.set(db, run2);
        }
        return run2;
      }
    };
  }
});

// src/runner/resolve-timeouts.ts
function resolveTimeouts(timeouts = {}, env = process.env) {
  return Object.freeze({
    ...statementTimeouts(timeouts),
    lockWaitMs: timeouts.lockWaitMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS,
    connectMs: timeouts.connectMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // Read only for the embedded database: a bad WUKONG_PGLITE_BUSY_TIMEOUT_MS must not fail a run on a server.
    get embeddedBusyMs() {
      return embeddedBusyTimeoutMs(timeouts.embeddedBusyMs, env);
    }
  });
}
var init_resolve_timeouts = __esm({
  "src/runner/resolve-timeouts.ts"() {
    "use strict";
    init_embedded_settings();
    init_pg_config();
    init_migration_timeouts();
  }
});

// src/connect/thrown-text.ts
import { inspect as inspect2 } from "node:util";
function thrownText(value) {
  if (value instanceof Error) return value.message || value.name;
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const { name, status, message } = value;
    if (name === "ExitStatus" && typeof status === "number") return `PGlite's PostgreSQL exited with status ${status}`;
    const { errno } = value;
    if (name === "ErrnoError" && typeof errno === "number") {
      const known = EMSCRIPTEN_ERRNO[errno];
      return `PGlite's file system failed: ${known ? `${known[0]} (${known[1]})` : `errno ${errno}`}`;
    }
    if (typeof message === "string" && message) return message;
    return inspect2(value, { depth: 2, breakLength: Infinity });
  }
  return String(value);
}
function asError(value) {
  return value instanceof Error ? value : new Error(thrownText(value), { cause: value });
}
var EMSCRIPTEN_ERRNO;
var init_thrown_text = __esm({
  "src/connect/thrown-text.ts"() {
    "use strict";
    EMSCRIPTEN_ERRNO = {
      2: ["EACCES", "permission denied"],
      10: ["EBUSY", "resource busy"],
      19: ["EDQUOT", "disk quota exceeded"],
      20: ["EEXIST", "file exists"],
      28: ["EINVAL", "invalid argument"],
      29: ["EIO", "input/output error"],
      31: ["EISDIR", "is a directory"],
      33: ["EMFILE", "too many open files"],
      44: ["ENOENT", "no such file or directory"],
      51: ["ENOSPC", "no space left on device"],
      54: ["ENOTDIR", "not a directory"],
      55: ["ENOTEMPTY", "directory not empty"],
      63: ["EPERM", "operation not permitted"],
      69: ["EROFS", "read-only file system"]
    };
  }
});

// src/runner/wrap-run-error.ts
function wrapRunError(error, context) {
  const { url, urlOption, env, source } = context;
  const candidates = [url, urlOption, ...DATABASE_URL_VARIABLES.map((name) => env[name])];
  const secrets = candidates.flatMap((u) => u ? urlSecrets(u) : []);
  if (error instanceof MigrationError) {
    if (!secrets.some((s) => error.message.includes(s))) return error;
    const { file, line, column, sqlState: sqlState2 } = error;
    return new MigrationError(error.code, redact(error.reason, secrets), { file, line, column, sqlState: sqlState2 });
  }
  const message = /due to connection timeout|timeout expired/i.test(thrownText(error)) ? `no answer within ${connectTimeoutOf(url ?? "", context.connectMs)} ms while connecting and logging in (connect timeout)` : redact(thrownText(error), secrets);
  const code2 = errorCode(error);
  const sqlState = sqlStateOf(error);
  if (sqlState === SQLSTATE.READ_ONLY_SQL_TRANSACTION) return readOnlyError(error);
  const refused = [
    SQLSTATE.INVALID_PASSWORD,
    SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION,
    SQLSTATE.INVALID_CATALOG_NAME
  ];
  if (sqlState !== void 0 && !refused.includes(sqlState)) {
    const mapped = codeForServerError(sqlState, message);
    if (mapped !== "CONNECTION_FAILED") return new MigrationError(mapped, message, { sqlState, cause: error });
  }
  const where = source === "db" ? "the given Kysely instance" : source === "option" ? "the url option" : source;
  const lost = code2?.startsWith("57P") ?? false;
  const reason = connectionFailedReason({ where, url: url ? redact(url, secrets) : void 0, reason: message, lost });
  const cause = Object.assign(new Error(message), { name: asError(error).name }, code2 === void 0 ? {} : { code: code2 });
  return new MigrationError("CONNECTION_FAILED", reason, { sqlState: lost ? sqlState : void 0, cause });
}
var init_wrap_run_error = __esm({
  "src/runner/wrap-run-error.ts"() {
    "use strict";
    init_resolve_database_url();
    init_pg_config();
    init_redact();
    init_thrown_text();
    init_migration_error();
    init_sql_state();
    init_migration_sql_error();
  }
});

// src/connect/embedded-database-busy-error.ts
import { hostname } from "node:os";
function busyMessage(props) {
  const { holder } = props;
  const self2 = holder?.pid === process.pid && holder.host === hostname();
  const who = !holder ? "another process" : `${self2 ? "this process" : "process"} ${holder.pid}${holder.command ? ` (${holder.command})` : ""}${holder.host ? ` on ${holder.host}` : ""}${holder.since ? ` since ${holder.since}` : ""}`;
  const waited = props.busyTimeoutMs > 0 ? `; waited ${formatSeconds(props.waitedMs)} for it to close` : "";
  const hint = self2 ? " (close the other database first, or give its Kysely instance to MigrationRunner as `db`)" : holder && holder.host !== hostname() ? ` (this host cannot tell whether it still runs: if it does not, delete ${props.lockFile})` : "";
  return `the embedded database in ${props.dataDir} is open in ${who}${waited}${hint}`;
}
function formatSeconds(ms) {
  return ms < 1e3 ? `${ms} ms` : `${Number((ms / 1e3).toFixed(1))} s`;
}
var EmbeddedDatabaseBusyError;
var init_embedded_database_busy_error = __esm({
  "src/connect/embedded-database-busy-error.ts"() {
    "use strict";
    init_migration_error();
    EmbeddedDatabaseBusyError = class extends MigrationError {
      name = "EmbeddedDatabaseBusyError";
      dataDir;
      /** The lock file naming the holder. */
      lockFile;
      /** Undefined when the lock file could not be read. */
      holder;
      waitedMs;
      busyTimeoutMs;
      constructor(props) {
        super("EMBEDDED_DATABASE_BUSY", busyMessage(props));
        this.dataDir = props.dataDir;
        this.lockFile = props.lockFile;
        this.holder = props.holder ? Object.freeze({ ...props.holder }) : void 0;
        this.waitedMs = props.waitedMs;
        this.busyTimeoutMs = props.busyTimeoutMs;
      }
    };
  }
});

// src/connect/process-identity.ts
import { execFileSync } from "node:child_process";
import { readFileSync as readFileSync4 } from "node:fs";
import { basename } from "node:path";
function bootId() {
  if (cachedBootId === void 0) {
    try {
      cachedBootId = readFileSync4("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      cachedBootId = "";
    }
  }
  return cachedBootId;
}
function startTicks(pid) {
  try {
    const stat = readFileSync4(`/proc/${pid}/stat`, "utf8");
    const ticks = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[22 - 3];
    return ticks && /^\d+$/.test(ticks) ? ticks : void 0;
  } catch {
    return void 0;
  }
}
function processStartTime(pid) {
  if (process.platform === "linux") {
    const ticks = startTicks(pid);
    return ticks ? `linux:${bootId()}:${ticks}` : void 0;
  }
  if (process.platform === "win32") return void 0;
  try {
    const started = execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], {
      encoding: "utf8",
      timeout: 2e3,
      stdio: ["ignore", "pipe", "ignore"]
    }).trim();
    return started ? `ps:${started}` : void 0;
  } catch {
    return void 0;
  }
}
function isProcessRunning(pid, startTime2) {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code !== "EPERM") return false;
  }
  if (startTime2 === void 0) return true;
  const now = processStartTime(pid);
  return now === void 0 || now === startTime2;
}
function describeCommand(argv = [process.execPath, ...process.argv.slice(1)]) {
  const [program, script, ...args2] = argv;
  const words = [program ? basename(program) : "node"];
  if (script) words.push(basename(script));
  let previous = "";
  for (const arg of args2.slice(0, 8)) {
    const plain = /^[\w.,:/+-]{1,64}$/.test(arg) && !arg.includes("://");
    const hidden = !plain || SECRET_FLAG.test(previous);
    words.push(hidden ? "\u2026" : arg.includes("/") ? basename(arg) : arg);
    previous = arg.startsWith("-") && !arg.includes("=") ? arg : "";
  }
  return words.join(" ");
}
var cachedBootId, SECRET_FLAG;
var init_process_identity = __esm({
  "src/connect/process-identity.ts"() {
    "use strict";
    SECRET_FLAG = /pass|secret|token|key|url|auth|cred/i;
  }
});

// src/connect/embedded-folder-lock.ts
import { createHash as createHash4, randomBytes } from "node:crypto";
import { linkSync, lstatSync, readFileSync as readFileSync5, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname as hostname2 } from "node:os";
function lockFileOf(dataDir) {
  return `${dataDir}.lock`;
}
async function lockEmbeddedFolder(dataDir, options = {}) {
  const timeout = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isFinite(timeout) || timeout < 0) {
    throw new RangeError(`busyTimeoutMs must be a number of milliseconds \u2265 0, got ${timeout}`);
  }
  const file = lockFileOf(dataDir);
  const started = Date.now();
  let notified = false;
  for (; ; ) {
    const outcome = claim(file, 0);
    if (outcome.claimed) {
      const lock = new EmbeddedFolderLock(file, outcome.token);
      held.add(lock);
      installExitHook();
      return lock;
    }
    const waited = Date.now() - started;
    if (waited >= timeout) {
      const { holder } = outcome;
      throw new EmbeddedDatabaseBusyError({ dataDir, lockFile: file, holder, waitedMs: waited, busyTimeoutMs: timeout });
    }
    if (!notified) {
      notified = true;
      options.onBusy?.(outcome.holder);
    }
    await new Promise((resolve5) => setTimeout(resolve5, Math.min(POLL_MS, timeout - waited)));
  }
}
function claim(file, depth) {
  for (let round = 0; round < 5; round++) {
    const token = create(file);
    if (token) return { claimed: true, token };
    const seen2 = read(file);
    if (!seen2) continue;
    const busy = { claimed: false, holder: seen2.record && holderOf(seen2.record) };
    if (seen2.record ? isAlive(seen2.record) : seen2.young) return busy;
    if (depth >= MAX_TAKEOVER_DEPTH) return busy;
    const helper = claim(`${file}.takeover-${seen2.id}`, depth + 1);
    if (!helper.claimed) return helper.holder ? helper : busy;
    try {
      const now = read(file);
      if (now?.id === seen2.id) return { claimed: true, token: replace(file) };
    } finally {
      removeIfClaim(`${file}.takeover-${seen2.id}`, helper.token);
    }
  }
  const seen = read(file);
  return { claimed: false, holder: seen?.record && holderOf(seen.record) };
}
function privateRecord(file) {
  const token = randomBytes(12).toString("hex");
  ownStartTime ??= { value: processStartTime(process.pid) };
  const record = {
    pid: process.pid,
    host: hostname2(),
    command: describeCommand(),
    since: (/* @__PURE__ */ new Date()).toISOString(),
    token,
    startTime: ownStartTime.value
  };
  const text = `${JSON.stringify(record)}
`;
  const tmp = `${file}.${process.pid}.${token}.tmp`;
  writeFileSync(tmp, text, { flag: "wx" });
  return { token, text, tmp };
}
function replace(file) {
  const { token, tmp } = privateRecord(file);
  try {
    renameSync(tmp, file);
  } catch (error) {
    unlinkQuietly(tmp);
    throw error;
  }
  return token;
}
function create(file) {
  const { token, text, tmp } = privateRecord(file);
  try {
    linkSync(tmp, file);
    return token;
  } catch (error) {
    const code2 = error.code;
    if (code2 === "EEXIST") return void 0;
    if (NO_LINKS.has(code2 ?? "")) return createInPlace(file, text, token);
    throw error;
  } finally {
    unlinkQuietly(tmp);
  }
}
function createInPlace(file, text, token) {
  try {
    writeFileSync(file, text, { flag: "wx" });
    return token;
  } catch (error) {
    if (error.code === "EEXIST") return void 0;
    throw error;
  }
}
function read(file) {
  let raw;
  let mtimeMs;
  let ino;
  try {
    raw = readFileSync5(file, "utf8");
    const stat = lstatSync(file);
    mtimeMs = stat.mtimeMs;
    ino = stat.ino;
  } catch (error) {
    if (error.code === "ENOENT") return void 0;
    throw error;
  }
  const record = parse2(raw);
  if (record) return { id: record.token, record, young: false };
  const id = `x${createHash4("sha256").update(`${ino}:${mtimeMs}:${raw}`).digest("hex").slice(0, 24)}`;
  return { id, record: void 0, young: Date.now() - mtimeMs < UNPARSED_GRACE_MS };
}
function parse2(raw) {
  try {
    const value = JSON.parse(raw);
    if (!value || typeof value.pid !== "number" || typeof value.host !== "string") return void 0;
    if (typeof value.token !== "string" || !/^[0-9a-f]{8,64}$/.test(value.token)) return void 0;
    return value;
  } catch {
    return void 0;
  }
}
function isAlive(record) {
  if (record.host !== hostname2()) return true;
  return isProcessRunning(record.pid, record.startTime);
}
function holderOf(record) {
  return Object.freeze({ pid: record.pid, host: record.host, command: record.command, since: record.since });
}
function removeIfClaim(file, token) {
  try {
    if (read(file)?.id === token) unlinkSync(file);
  } catch {
  }
}
function unlinkQuietly(file) {
  try {
    unlinkSync(file);
  } catch {
  }
}
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const lock of [...held]) lock.release();
  });
}
var MAX_TAKEOVER_DEPTH, POLL_MS, UNPARSED_GRACE_MS, NO_LINKS, held, exitHookInstalled, EmbeddedFolderLock, ownStartTime;
var init_embedded_folder_lock = __esm({
  "src/connect/embedded-folder-lock.ts"() {
    "use strict";
    init_embedded_settings();
    init_embedded_database_busy_error();
    init_process_identity();
    MAX_TAKEOVER_DEPTH = 3;
    POLL_MS = 100;
    UNPARSED_GRACE_MS = 2e3;
    NO_LINKS = /* @__PURE__ */ new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);
    held = /* @__PURE__ */ new Set();
    exitHookInstalled = false;
    EmbeddedFolderLock = class {
      #file;
      #token;
      #released = false;
      constructor(file, token) {
        this.#file = file;
        this.#token = token;
      }
      /** Removes the lock file if it is still this claim's. Idempotent. */
      release() {
        if (this.#released) return;
        this.#released = true;
        held.delete(this);
        removeIfClaim(this.#file, this.#token);
      }
    };
  }
});

// src/connect/import-driver.ts
async function importDriver(feature, load, ...packages) {
  try {
    return await load();
  } catch (error) {
    const code2 = error?.code;
    if (code2 === "ERR_MODULE_NOT_FOUND" || code2 === "MODULE_NOT_FOUND") {
      throw new MigrationError(
        "DRIVER_NOT_INSTALLED",
        `the ${feature} needs ${packages.join(" and ")}: npm install ${packages.join(" ")}`,
        { cause: error }
      );
    }
    throw error;
  }
}
var init_import_driver = __esm({
  "src/connect/import-driver.ts"() {
    "use strict";
    init_migration_error();
  }
});

// src/connect/open-pglite.ts
var open_pglite_exports = {};
__export(open_pglite_exports, {
  createPgliteDatabase: () => createPgliteDatabase,
  openPglite: () => openPglite
});
import { mkdirSync, readdirSync as readdirSync2, readFileSync as readFileSync6, realpathSync as realpathSync2 } from "node:fs";
import { join as join3 } from "node:path";
import { Kysely, PostgresDialect, sql as sql7 } from "kysely";
import pg3 from "pg";
async function openPglite(dataDir, options = {}) {
  const inMemory = dataDir.startsWith("memory://");
  if (!inMemory && options.loadDataDir) throw new TypeError("openPglite: loadDataDir is for memory:// only");
  const [{ PGlite }, { vector }] = await importDriver(
    "embedded database",
    () => Promise.all([
      importAtRunTime("@electric-sql/pglite"),
      importAtRunTime("@electric-sql/pglite-pgvector")
    ]),
    "@electric-sql/pglite",
    "@electric-sql/pglite-pgvector"
  );
  let lock;
  let folder = dataDir;
  if (!inMemory) {
    mkdirSync(dataDir, { recursive: true });
    folder = realpathSync2(dataDir);
    lock = await lockEmbeddedFolder(folder, { busyTimeoutMs: options.busyTimeoutMs, onBusy: options.onBusy });
  }
  let pglite;
  try {
    const load = options.loadDataDir ? { loadDataDir: options.loadDataDir } : {};
    pglite = await PGlite.create(folder, { extensions: { vector }, ...load });
  } catch (error) {
    lock?.release();
    const where = inMemory ? "in memory" : `in ${folder}`;
    const why = inMemory ? thrownText(error) : openFailure(folder, error);
    const cause = new Error(why, { cause: asError(error) });
    throw new MigrationError("CONNECTION_FAILED", `cannot open the embedded database ${where}: ${why}`, { cause });
  }
  let closing;
  return Object.freeze({
    pglite,
    close() {
      closing ??= (async () => {
        try {
          if (!pglite.closed) await pglite.close();
        } finally {
          lock?.release();
        }
      })();
      return closing;
    }
  });
}
async function createPgliteDatabase(dataDir, options = {}) {
  const opened = await openPglite(dataDir, { ...options, busyTimeoutMs: embeddedBusyTimeoutMs(options.busyTimeoutMs) });
  let pool;
  try {
    const { createPgConfig } = await importAtRunTime(
      "@electric-sql/pglite/node-postgres"
    );
    pool = guardConnectionErrors(new pg3.Pool(createPgConfig(opened.pglite)));
  } catch (error) {
    await opened.close();
    throw error;
  }
  const end = async () => {
    try {
      await pool.end();
    } finally {
      await opened.close();
    }
  };
  const { Client, options: poolOptions } = pool;
  const closing = { Client, options: poolOptions, connect: () => pool.connect(), end };
  const db = new Kysely({ dialect: new PostgresDialect({ pool: closing }) });
  try {
    await sql7`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => {
    });
    await opened.close();
    throw error;
  }
  return db;
}
function openFailure(folder, error) {
  const said = thrownText(error);
  const aside = `move ${folder} aside (or delete it, if its data is disposable) so a new one is created, or point WUKONG_PGLITE_DIR at another folder`;
  if (/\bEACCES\b|\bEPERM\b|permission denied/i.test(said))
    return `the process may not read or write ${folder} (${said}): give it access, or point WUKONG_PGLITE_DIR at another folder`;
  if (/\bAborted\(|RuntimeError|unreachable/i.test(said))
    return `the embedded database's WebAssembly runtime aborted while opening the folder (${said}); run again, and if it repeats the folder is damaged: ${aside}`;
  let version;
  let entries = [];
  try {
    entries = readdirSync2(folder);
    version = readFileSync6(join3(folder, "PG_VERSION"), "utf8").trim();
  } catch {
  }
  if (version !== void 0 && !/^\d+$/.test(version))
    return `${folder} is not a PGlite data folder, or it is damaged: its PG_VERSION file reads "${version.slice(0, 40)}" (${said}); ${aside}`;
  if (version !== void 0)
    return `${folder} holds a PostgreSQL ${version} data folder that this PGlite cannot open: made by another PGlite version, or damaged (${said}); ${aside}`;
  if (entries.length > 0)
    return `${folder} is not empty and holds no PostgreSQL data (no PG_VERSION file): it is not a PGlite data folder (${said}); ${aside}`;
  return said;
}
var init_open_pglite = __esm({
  "src/connect/open-pglite.ts"() {
    "use strict";
    init_migration_error();
    init_embedded_folder_lock();
    init_embedded_settings();
    init_guard_connection_errors();
    init_import_driver();
    init_thrown_text();
    init_import_at_run_time();
  }
});

// src/connect/vercel-database.ts
var vercel_database_exports = {};
__export(vercel_database_exports, {
  configureNeon: () => configureNeon,
  createVercelDatabase: () => createVercelDatabase
});
import { existsSync as existsSync2, readFileSync as readFileSync7 } from "node:fs";
import { createRequire as requireFrom } from "node:module";
import { join as join4 } from "node:path";
import { pathToFileURL } from "node:url";
async function configureNeon(settings) {
  const { neonConfig } = await importDriver(
    "vercel driver",
    () => importAtRunTime(neonOfVercelPostgres()),
    VERCEL_KYSELY,
    NEON
  );
  for (const [name, value] of Object.entries(settings)) {
    if (value !== void 0) neonConfig[name] = value;
  }
}
async function createVercelDatabase(url, options = {}) {
  const { createKysely } = await importDriver(
    "vercel driver",
    () => importAtRunTime(VERCEL_KYSELY),
    VERCEL_KYSELY,
    NEON
  );
  if (options.neon) await configureNeon(options.neon);
  return createKysely({ connectionString: url, max: options.max ?? 10, log: guardIdleErrors() });
}
function guardIdleErrors() {
  let guarded = false;
  return function() {
    if (guarded) return;
    const pool = this;
    if (typeof pool?.on !== "function") return;
    guarded = true;
    guardConnectionErrors(pool);
  };
}
function neonOfVercelPostgres() {
  const here = import.meta.url;
  const fromHere = requireFrom(here);
  let vercelPostgres;
  try {
    vercelPostgres = requireFrom(fromHere.resolve(VERCEL_KYSELY)).resolve("@vercel/postgres");
  } catch {
    return NEON;
  }
  for (const folder of requireFrom(vercelPostgres).resolve.paths(NEON) ?? []) {
    const root = join4(folder, NEON);
    if (!existsSync2(join4(root, "package.json"))) continue;
    const manifest2 = JSON.parse(readFileSync7(join4(root, "package.json"), "utf8"));
    const entry = esmEntry(manifest2);
    return entry ? pathToFileURL(join4(root, entry)).href : NEON;
  }
  return NEON;
}
function esmEntry(manifest2) {
  let target = manifest2.exports;
  if (target && typeof target === "object" && "." in target) target = target["."];
  for (const condition of ["import", "node", "default"]) {
    if (typeof target === "string") break;
    if (target && typeof target === "object" && condition in target) {
      target = target[condition];
    }
  }
  return typeof target === "string" ? target : manifest2.module;
}
var NEON, VERCEL_KYSELY;
var init_vercel_database = __esm({
  "src/connect/vercel-database.ts"() {
    "use strict";
    init_guard_connection_errors();
    init_import_at_run_time();
    init_import_driver();
    NEON = "@neondatabase/serverless";
    VERCEL_KYSELY = "@vercel/postgres-kysely";
  }
});

// src/connect/create-database.ts
var create_database_exports = {};
__export(create_database_exports, {
  chooseDriver: () => chooseDriver,
  createDatabase: () => createDatabase,
  severConnections: () => severConnections
});
import { Kysely as Kysely2, PostgresDialect as PostgresDialect2 } from "kysely";
function chooseDriver(url) {
  return url ? "pg" : "pglite";
}
async function createDatabase(options = {}) {
  const driver = options.driver ?? chooseDriver(options.url);
  if (driver === "pglite") {
    const { createPgliteDatabase: createPgliteDatabase2 } = await Promise.resolve().then(() => (init_open_pglite(), open_pglite_exports));
    const { busyTimeoutMs, onBusy } = options;
    return createPgliteDatabase2(options.dataDir ?? embeddedDataDir(), { busyTimeoutMs, onBusy });
  }
  if (!options.url) throw new TypeError(`createDatabase: the ${driver} driver needs a url`);
  assertUnambiguousUrl(options.url);
  if (driver === "vercel") {
    const { createVercelDatabase: createVercelDatabase2 } = await Promise.resolve().then(() => (init_vercel_database(), vercel_database_exports));
    return createVercelDatabase2(options.url, { neon: options.neon, max: options.max });
  }
  const pool = options.pool ?? new GuardedPool(
    pgPoolConfig(options.url, {
      ssl: options.ssl,
      max: options.max,
      applicationName: options.applicationName,
      connectTimeoutMs: options.connectTimeoutMs,
      sessionLockTimeoutMs: options.sessionLockTimeoutMs
    })
  );
  const db = new Kysely2({ dialect: new PostgresDialect2({ pool }) });
  pools.set(db, pool);
  return db;
}
function severConnections(db) {
  pools.get(db)?.sever();
}
var pools;
var init_create_database = __esm({
  "src/connect/create-database.ts"() {
    "use strict";
    init_guarded_pool();
    init_pg_config();
    init_embedded_settings();
    init_redact();
    pools = /* @__PURE__ */ new WeakMap();
  }
});

// src/errors/no-database-url-error.ts
var NoDatabaseUrlError;
var init_no_database_url_error = __esm({
  "src/errors/no-database-url-error.ts"() {
    "use strict";
    init_migration_error();
    NoDatabaseUrlError = class extends MigrationError {
      name = "NoDatabaseUrlError";
      /** The environment variables looked at, in order. */
      variables;
      /** What made the process look like production, e.g. `['VERCEL=1']`; empty with `embedded: false`. */
      signals;
      constructor(variables, signals) {
        const why = signals.length ? `this looks like production (${signals.join(", ")}), so the embedded database is not used` : "and the embedded database is turned off (embedded: false)";
        super(
          "NO_DATABASE_URL",
          `no database URL: none of ${variables.join(", ")} is set, ${why}; set one of them, or ask for the embedded database explicitly (embedded: true, wukong-migrate --embedded)`
        );
        this.variables = Object.freeze([...variables]);
        this.signals = Object.freeze([...signals]);
      }
    };
  }
});

// src/provider/kysely-internals.ts
function withReplacedMember(target, member, value) {
  return new Proxy(target, {
    get(object, property) {
      if (property === member) return value;
      const found = Reflect.get(object, property, object);
      return typeof found === "function" ? found.bind(object) : found;
    }
  });
}
function withAdapter(db, adapter) {
  const executor = withReplacedMember(db.getExecutor(), "adapter", adapter);
  return withReplacedMember(db, "getExecutor", () => executor);
}
var KYSELY_MIGRATION_LOCK_KEY;
var init_kysely_internals = __esm({
  "src/provider/kysely-internals.ts"() {
    "use strict";
    KYSELY_MIGRATION_LOCK_KEY = 3853314791062309107n;
  }
});

// src/connect/transaction-scoped-migration-lock.ts
import { PostgresAdapter, sql as sql8 } from "kysely";
async function pollForLock(db, deadline, options, tryLock) {
  const started = Date.now();
  let backoff = FIRST_BACKOFF_MS;
  let reported = started;
  for (; ; ) {
    if (await tryLock()) return;
    const now = Date.now();
    if (now >= deadline || options.onWait && now - reported >= WAIT_REPORT_MS) {
      const holder = await lockHolder(db).catch(() => void 0);
      if (now >= deadline) {
        const who = holder ? ` by ${describeSession(holder)}` : "";
        throw new MigrationError(
          "LOCK_TIMEOUT",
          `another migrator held the migration lock${who} for the ${now - started} ms this run waited; a holder that is idle on a pooled server connection is a stranded session lock (see docs/vercel.md in the package)`
        );
      }
      options.onWait?.({
        waitedMs: now - started,
        ...holder ? {
          holderPid: holder.pid,
          holderState: holder.state ?? void 0,
          holderApplication: holder.applicationName ?? void 0
        } : {}
      });
      reported = now;
    }
    await new Promise((r) => setTimeout(r, Math.min(Math.random() * backoff, Math.max(0, deadline - Date.now()))));
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
  }
}
async function lockHolder(db) {
  const { rows } = await sql8`
    select l.pid, a.state, a.application_name as "applicationName", a.query
    from pg_locks l left join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.granted and l.classid = ${KEY_HIGH}::int8::oid and l.objid = ${KEY_LOW}::int8::oid and l.objsubid = 1
      -- Advisory locks belong to one database: a migrator of another database holds another lock.
      and l.database = (select oid from pg_catalog.pg_database where datname = pg_catalog.current_database())
    limit 1`.execute(db);
  return rows[0];
}
async function tryXactLock(db) {
  const { rows } = await sql8`select pg_try_advisory_xact_lock(${KEY_SQL}) as locked`.execute(db);
  return rows[0]?.locked === true;
}
function withTransactionScopedMigrationLock(db, options = {}) {
  const adapter = new TransactionScopedMigrationLockAdapter(db.getExecutor().adapter, db, options);
  return withAdapter(db, adapter);
}
function openLockSession(pool) {
  return new Promise((resolve5, reject) => {
    let release;
    const released = new Promise((r) => release = r);
    let opened = false;
    const done = pool.connection().execute(async (db) => {
      opened = true;
      resolve5({ db, release, done });
      await released;
    }).catch((error) => {
      if (!opened) reject(error);
    });
  });
}
var MIGRATION_LOCK_KEY, KEY_SQL, MigrationLockAdapter, KEY_HIGH, KEY_LOW, FIRST_BACKOFF_MS, MAX_BACKOFF_MS, WAIT_REPORT_MS, DEFAULT_LOCK_HEARTBEAT_MS, TransactionScopedMigrationLockAdapter, HeldLock;
var init_transaction_scoped_migration_lock = __esm({
  "src/connect/transaction-scoped-migration-lock.ts"() {
    "use strict";
    init_migration_error();
    init_kysely_internals();
    init_migration_timeouts();
    init_session_summary();
    init_migration_timeouts();
    MIGRATION_LOCK_KEY = KYSELY_MIGRATION_LOCK_KEY;
    KEY_SQL = sql8.raw(MIGRATION_LOCK_KEY.toString());
    MigrationLockAdapter = class extends PostgresAdapter {
      #inner;
      constructor(inner) {
        super();
        this.#inner = inner;
      }
      get supportsTransactionalDdl() {
        return this.#inner.supportsTransactionalDdl ?? false;
      }
    };
    KEY_HIGH = Number(MIGRATION_LOCK_KEY >> 32n);
    KEY_LOW = Number(MIGRATION_LOCK_KEY & 0xffffffffn);
    FIRST_BACKOFF_MS = 20;
    MAX_BACKOFF_MS = 500;
    WAIT_REPORT_MS = 5e3;
    DEFAULT_LOCK_HEARTBEAT_MS = 5e3;
    TransactionScopedMigrationLockAdapter = class extends MigrationLockAdapter {
      #pool;
      #options;
      // The Migrator passes the same `db` to acquire and release: one held lock per run.
      #held = /* @__PURE__ */ new WeakMap();
      constructor(inner, pool, options) {
        super(inner);
        this.#pool = pool;
        this.#options = Object.freeze({ ...options });
      }
      async acquireMigrationLock(db, _options) {
        const deadline = Date.now() + (this.#options.waitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS);
        if (db.isTransaction) {
          await pollForLock(db, deadline, this.#options, () => tryXactLock(db));
          return;
        }
        if (this.#pool.isTransaction) {
          throw new TypeError(
            "withTransactionScopedMigrationLock: a wrapped transaction must be handed to the Migrator itself"
          );
        }
        const session = await openLockSession(this.#pool);
        try {
          await pollForLock(session.db, deadline, this.#options, async () => {
            await sql8`begin`.execute(session.db);
            if (await tryXactLock(session.db)) return true;
            await sql8`rollback`.execute(session.db);
            return false;
          });
        } catch (error) {
          await sql8`rollback`.execute(session.db).catch(() => {
          });
          session.release();
          await session.done;
          throw error;
        }
        this.#held.set(db, new HeldLock(session, this.#options.heartbeatMs ?? DEFAULT_LOCK_HEARTBEAT_MS));
      }
      async releaseMigrationLock(db, _options) {
        const held2 = this.#held.get(db);
        if (!held2) return;
        this.#held.delete(db);
        await held2.release();
      }
    };
    HeldLock = class {
      #session;
      #timer;
      #queue = Promise.resolve();
      #lost;
      constructor(session, heartbeatMs) {
        this.#session = session;
        this.#timer = setInterval(() => this.#enqueue(() => sql8`select 1`.execute(session.db).then(() => {
        })), heartbeatMs);
        this.#timer.unref();
      }
      async release() {
        clearInterval(this.#timer);
        this.#enqueue(() => sql8`rollback`.execute(this.#session.db).then(() => {
        }));
        await this.#queue;
        this.#session.release();
        await this.#session.done;
        if (this.#lost !== void 0) {
          const reason = this.#lost instanceof Error ? this.#lost.message : String(this.#lost);
          throw new MigrationError(
            "CONNECTION_FAILED",
            `the migration lock's connection failed during the run (${reason}), so another migrator may have run at the same time; each file committed atomically with its ledger row, so run the migrations again to check that everything is applied`,
            { cause: this.#lost }
          );
        }
      }
      #enqueue(step) {
        this.#queue = this.#queue.then(async () => {
          if (this.#lost !== void 0) return;
          try {
            await step();
          } catch (error) {
            this.#lost = error;
          }
        });
      }
    };
  }
});

// src/connect/session-migration-lock.ts
import { sql as sql9 } from "kysely";
function withBoundedSessionMigrationLock(db, options = {}) {
  const adapter = new BoundedSessionMigrationLockAdapter(db.getExecutor().adapter, options);
  return withAdapter(db, adapter);
}
var BoundedSessionMigrationLockAdapter;
var init_session_migration_lock = __esm({
  "src/connect/session-migration-lock.ts"() {
    "use strict";
    init_kysely_internals();
    init_transaction_scoped_migration_lock();
    init_sql_state();
    BoundedSessionMigrationLockAdapter = class extends MigrationLockAdapter {
      #options;
      constructor(inner, options) {
        super(inner);
        this.#options = Object.freeze({ ...options });
      }
      async acquireMigrationLock(db, _options) {
        const wait = this.#options.waitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS;
        const deadline = wait > 0 ? Date.now() + wait : Number.POSITIVE_INFINITY;
        await pollForLock(db, deadline, this.#options, async () => {
          const { rows } = await sql9`select pg_try_advisory_lock(${KEY_SQL}) as locked`.execute(db);
          return rows[0]?.locked === true;
        });
      }
      async releaseMigrationLock(db, _options) {
        try {
          await sql9`select pg_advisory_unlock(${KEY_SQL})`.execute(db);
        } catch (error) {
          if (!isLostConnection(error)) throw error;
        }
      }
    };
  }
});

// src/connect/open-migration-database.ts
function resolveMigrationUrl(options = {}) {
  const env = options.env ?? process.env;
  const order = options.driver === "vercel" ? POOLED_FIRST_URL_VARIABLES : DATABASE_URL_VARIABLES;
  const resolved = options.embedded === true ? embeddedOnly(options) : resolveDatabaseUrl(options.url, env, order);
  if (resolved.source === "embedded" && options.embedded !== true) {
    const signals = productionSignals(env);
    if (options.embedded === false || signals.length)
      throw new NoDatabaseUrlError(order, options.embedded === false ? [] : signals);
  }
  return resolved;
}
async function openMigrationDatabase(options = {}, resolved = resolveMigrationUrl(options)) {
  const env = options.env ?? process.env;
  const { url, source } = resolved;
  const driver = options.driver ?? chooseDriver(url);
  const pooled = url ? isPooledUrl(url, { pooled: options.pooled }) : false;
  const lock = options.lock ?? (driver !== "pglite" && (pooled || driver === "vercel") ? "transaction" : "session");
  if (lock === "transaction" && driver === "pglite") {
    throw new TypeError(
      "openMigrationDatabase: the transaction lock needs a second connection, which the embedded database does not have"
    );
  }
  const timeouts = options.timeouts ?? {};
  const sessionLockTimeoutMs = timeouts.lockMs !== void 0 && driver === "pg" && lock === "session" && url && !options.pool && !hasOptionsParameter(url) ? Math.max(0, Math.trunc(timeouts.lockMs)) : void 0;
  const base = await createDatabase({
    url,
    driver,
    dataDir: options.dataDir,
    busyTimeoutMs: driver === "pglite" ? embeddedBusyTimeoutMs(timeouts.embeddedBusyMs, env) : void 0,
    onBusy: options.onBusy,
    max: MIGRATION_POOL_SIZE,
    ssl: options.ssl,
    neon: options.neon,
    applicationName: "wukong-migrate",
    connectTimeoutMs: timeouts.connectMs,
    sessionLockTimeoutMs,
    pool: options.pool
  });
  const wait = { waitTimeoutMs: timeouts.lockWaitMs };
  const db = lock === "transaction" ? withTransactionScopedMigrationLock(base, { ...wait, heartbeatMs: options.lockHeartbeatMs }) : driver === "pg" ? withBoundedSessionMigrationLock(base, wait) : base;
  return Object.freeze({
    db,
    driver,
    source,
    url,
    pooled,
    lock,
    migratorOptions: Object.freeze({ disableTransactions: true }),
    sessionLockTimeoutMs,
    close: () => base.destroy(),
    sever: () => void severConnections(base)
  });
}
function hasOptionsParameter(url) {
  try {
    return new URL(url).searchParams.has("options");
  } catch {
    return true;
  }
}
function embeddedOnly(options) {
  if (options.url) throw new TypeError("openMigrationDatabase: pass either url or embedded: true, not both");
  if (options.driver && options.driver !== "pglite")
    throw new TypeError(`openMigrationDatabase: embedded: true uses the pglite driver, not ${options.driver}`);
  return { url: void 0, source: "embedded" };
}
var MIGRATION_POOL_SIZE;
var init_open_migration_database = __esm({
  "src/connect/open-migration-database.ts"() {
    "use strict";
    init_create_database();
    init_embedded_settings();
    init_pooled_url();
    init_no_database_url_error();
    init_resolve_database_url();
    init_session_migration_lock();
    init_transaction_scoped_migration_lock();
    MIGRATION_POOL_SIZE = 3;
  }
});

// src/connect/index.ts
var init_connect = __esm({
  "src/connect/index.ts"() {
    "use strict";
    init_create_database();
    init_open_migration_database();
    init_session_migration_lock();
    init_embedded_settings();
    init_resolve_database_url();
    init_redact();
  }
});

// src/runner/still-running-error.ts
var StillRunningError;
var init_still_running_error = __esm({
  "src/runner/still-running-error.ts"() {
    "use strict";
    init_migration_error();
    StillRunningError = class extends MigrationError {
      name = "StillRunningError";
      /** The server process running it, when known: `pg_terminate_backend(backendPid)` ends it. */
      backendPid;
      constructor(reason, backendPid) {
        super("INTERRUPTED", reason);
        this.backendPid = backendPid;
      }
    };
  }
});

// src/schema-diff/read-schema-catalog.ts
var read_schema_catalog_exports = {};
__export(read_schema_catalog_exports, {
  SCHEMA_OBJECT_KINDS: () => SCHEMA_OBJECT_KINDS,
  readSchemaCatalog: () => readSchemaCatalog
});
import { sql as sql10 } from "kysely";
async function readSchemaCatalog(db) {
  const { rows } = await sql10.raw(CATALOG_SQL).execute(db);
  return Object.freeze({
    objects: Object.freeze(rows.map((r) => Object.freeze({ ...r, facts: Object.freeze(r.facts) })))
  });
}
var SCHEMA_OBJECT_KINDS, LEDGERS, CATALOG_SQL;
var init_read_schema_catalog = __esm({
  "src/schema-diff/read-schema-catalog.ts"() {
    "use strict";
    init_ledger();
    SCHEMA_OBJECT_KINDS = [
      "extension",
      "schema",
      "enum",
      "domain",
      "sequence",
      "table",
      "column",
      "constraint",
      "index",
      "trigger",
      "policy",
      "view",
      "materialized view",
      "function",
      "procedure",
      "aggregate"
    ];
    LEDGERS = `array[${LEDGER_TABLES.map((t) => `'${t}'`).join(", ")}]::text[]`;
    CATALOG_SQL = `
with user_ns as (
  select oid, nspname from pg_namespace
  where nspname not in ('pg_catalog', 'information_schema') and nspname !~ '^pg_(toast|temp_|toast_temp_)'
),
rels as (
  select c.oid, c.relname, c.relkind, n.nspname, c.relowner, c.relpersistence, c.reloptions, c.relrowsecurity
  from pg_class c join user_ns n on n.oid = c.relnamespace
  where not exists (select 1 from pg_depend d
                    where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
),
tabs as (
  select * from rels where relkind in ('r', 'p', 'f') and not (relname = any(${LEDGERS}))
),
objects as (
  select 'extension' as kind, null::text as schema, null::text as tbl, e.extname::text as name, null::text as owner,
         jsonb_build_object('version', e.extversion, 'schema', n.nspname) as facts
  from pg_extension e join pg_namespace n on n.oid = e.extnamespace
  union all
  select 'schema', null, null, nspname, null, '{}'::jsonb from user_ns
  union all
  select 'table', t.nspname, null, t.relname, pg_get_userbyid(t.relowner),
         jsonb_build_object(
           'kind', case t.relkind when 'p' then 'partitioned' when 'f' then 'foreign' else 'ordinary' end,
           'unlogged', t.relpersistence = 'u',
           'options', coalesce(array_to_string(t.reloptions, ', '), ''),
           'rowSecurity', t.relrowsecurity)
  from tabs t
  union all
  select 'column', t.nspname, t.nspname || '.' || t.relname, a.attname, null,
         jsonb_build_object(
           'type', format_type(a.atttypid, a.atttypmod),
           'notNull', a.attnotnull,
           'default', case when a.attgenerated = '' then pg_get_expr(d.adbin, d.adrelid) end,
           'identity', case a.attidentity when 'a' then 'always' when 'd' then 'by default' else '' end,
           'generated', case when a.attgenerated <> '' then pg_get_expr(d.adbin, d.adrelid) else '' end,
           'collation', case when a.attcollation <> ty.typcollation
                             then coalesce((select collname from pg_collation where oid = a.attcollation), '')
                             else '' end)
  from tabs t
  join pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  join pg_type ty on ty.oid = a.atttypid
  left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
  union all
  select 'constraint', t.nspname, t.nspname || '.' || t.relname, k.conname, null,
         jsonb_build_object(
           'type', case k.contype when 'p' then 'primary key' when 'u' then 'unique' when 'f' then 'foreign key'
                   when 'c' then 'check' when 'x' then 'exclusion' else k.contype::text end,
           'definition', pg_get_constraintdef(k.oid),
           'validated', k.convalidated)
  from pg_constraint k join tabs t on t.oid = k.conrelid
  -- NOT NULL is a column fact; PostgreSQL 18 also lists it here (contype 'n'), earlier ones do not.
  where k.contype <> 'n'
  union all
  select 'index', n.nspname, n.nspname || '.' || r.relname, c.relname, null,
         jsonb_build_object(
           'method', am.amname,
           'definition', pg_get_indexdef(i.indexrelid),
           'valid', i.indisvalid,
           'ready', i.indisready)
  from pg_index i
  join pg_class c on c.oid = i.indexrelid
  join pg_am am on am.oid = c.relam
  join rels r on r.oid = i.indrelid
  join user_ns n on n.oid = c.relnamespace
  where not (r.relkind in ('r', 'p', 'f') and r.relname = any(${LEDGERS}))
  union all
  select 'sequence', s.nspname, (
           select otn.nspname || '.' || ot.relname from pg_depend d
           join pg_class ot on ot.oid = d.refobjid join pg_namespace otn on otn.oid = ot.relnamespace
           where d.classid = 'pg_class'::regclass and d.objid = s.oid and d.refclassid = 'pg_class'::regclass
             and d.deptype in ('a', 'i') limit 1),
         s.relname, pg_get_userbyid(s.relowner),
         jsonb_build_object(
           'type', format_type(q.seqtypid, null),
           'start', q.seqstart::text, 'increment', q.seqincrement::text,
           'min', q.seqmin::text, 'max', q.seqmax::text, 'cache', q.seqcache::text, 'cycle', q.seqcycle,
           'ownedBy', coalesce((
             select ot.relname || '.' || oa.attname from pg_depend d
             join pg_class ot on ot.oid = d.refobjid
             join pg_attribute oa on oa.attrelid = d.refobjid and oa.attnum = d.refobjsubid
             where d.classid = 'pg_class'::regclass and d.objid = s.oid and d.refclassid = 'pg_class'::regclass
               and d.deptype in ('a', 'i') limit 1), ''))
  from rels s join pg_sequence q on q.seqrelid = s.oid
  where s.relkind = 'S' and not exists (
    select 1 from pg_depend d join pg_class ot on ot.oid = d.refobjid
    where d.classid = 'pg_class'::regclass and d.objid = s.oid and d.refclassid = 'pg_class'::regclass
      and d.deptype in ('a', 'i') and ot.relname = any(${LEDGERS}))
  union all
  select case v.relkind when 'm' then 'materialized view' else 'view' end, v.nspname, null, v.relname,
         pg_get_userbyid(v.relowner),
         jsonb_build_object('definition', pg_get_viewdef(v.oid, true),
                            'options', coalesce(array_to_string(v.reloptions, ', '), ''))
  from rels v where v.relkind in ('v', 'm')
  union all
  select case p.prokind when 'p' then 'procedure' when 'a' then 'aggregate' else 'function' end, n.nspname, null,
         p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', pg_get_userbyid(p.proowner),
         case when p.prokind = 'a'
              then jsonb_build_object('returns', pg_get_function_result(p.oid))
              else jsonb_build_object('definition', pg_get_functiondef(p.oid)) end
  from pg_proc p join user_ns n on n.oid = p.pronamespace
  where not exists (select 1 from pg_depend d
                    where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
  union all
  select 'trigger', t.nspname, t.nspname || '.' || t.relname, g.tgname, null,
         jsonb_build_object(
           'definition', pg_get_triggerdef(g.oid),
           'enabled', case g.tgenabled when 'O' then 'origin' when 'D' then 'disabled'
                                       when 'R' then 'replica' when 'A' then 'always' end)
  from pg_trigger g join tabs t on t.oid = g.tgrelid
  where not g.tgisinternal
  union all
  select 'policy', t.nspname, t.nspname || '.' || t.relname, p.polname, null,
         jsonb_build_object(
           'command', p.polcmd::text, 'permissive', p.polpermissive,
           'roles', (select coalesce(jsonb_agg(case when r = 0 then 'public' else pg_get_userbyid(r) end
                                               order by 1), '[]')
                     from unnest(p.polroles) r),
           'using', coalesce(pg_get_expr(p.polqual, p.polrelid), ''),
           'withCheck', coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''))
  from pg_policy p join tabs t on t.oid = p.polrelid
  union all
  select case ty.typtype when 'e' then 'enum' else 'domain' end, n.nspname, null, ty.typname,
         pg_get_userbyid(ty.typowner),
         case when ty.typtype = 'e'
              then jsonb_build_object('values', (select jsonb_agg(e.enumlabel order by e.enumsortorder)
                                                 from pg_enum e where e.enumtypid = ty.oid))
              else jsonb_build_object(
                'type', format_type(ty.typbasetype, ty.typtypmod),
                'notNull', ty.typnotnull,
                'default', ty.typdefault,
                'constraints', (select coalesce(jsonb_agg(k.conname || ' ' || pg_get_constraintdef(k.oid)
                                                          order by k.conname), '[]')
                                from pg_constraint k where k.contypid = ty.oid)) end
  from pg_type ty join user_ns n on n.oid = ty.typnamespace
  where ty.typtype in ('e', 'd')
    and not exists (select 1 from pg_depend d
                    where d.classid = 'pg_type'::regclass and d.objid = ty.oid and d.deptype = 'e')
)
select kind, schema, tbl as "table", name, owner, facts from objects`;
  }
});

// src/schema-diff/compare-schema-catalogs.ts
function compareSchemaCatalogs(expected, actual) {
  const want = byKey(expected.objects);
  const have = byKey(actual.objects);
  const tablesInBoth = new Set(
    [...want.values()].filter((o) => RELATIONS.has(o.kind) && have.has(keyOf(o))).map((o) => `${o.schema}.${o.name}`)
  );
  const mainOwner = dominantOwner(actual.objects);
  const out = [];
  const base = (o) => ({ kind: o.kind, schema: o.schema, table: o.table, name: o.name });
  for (const [key, w] of want) {
    const h = have.get(key);
    if (!h) {
      if (!TABLE_PARTS.has(w.kind) || !w.table || tablesInBoth.has(w.table)) {
        out.push(Object.freeze({ change: "dropped", ...base(w), expected: w.facts, actual: null, fields: [] }));
      }
      continue;
    }
    const fields = factChanges(w.facts, h.facts);
    if (OWNED.has(h.kind) && mainOwner && h.owner && h.owner !== mainOwner) {
      fields.push(Object.freeze({ field: "owner", expected: mainOwner, actual: h.owner }));
    }
    if (fields.length) {
      const facts = { expected: w.facts, actual: h.facts, fields: Object.freeze(fields) };
      out.push(Object.freeze({ change: "changed", ...base(w), ...facts }));
    }
  }
  for (const [key, h] of have) {
    if (want.has(key)) continue;
    if (TABLE_PARTS.has(h.kind) && h.table && !tablesInBoth.has(h.table)) continue;
    out.push(Object.freeze({ change: "added", ...base(h), expected: null, actual: h.facts, fields: [] }));
  }
  return Object.freeze(out.sort(compareDifferences));
}
function keyOf(o) {
  const inSchema = o.kind === "index" || o.kind === "sequence";
  return `${o.kind}\0${o.schema ?? ""}\0${inSchema ? "" : o.table ?? ""}\0${o.name}`;
}
function byKey(objects) {
  return new Map(objects.map((o) => [keyOf(o), o]));
}
function factChanges(expected, actual) {
  const fields = [.../* @__PURE__ */ new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  const out = [];
  for (const field of fields) {
    const [e, a] = [expected[field] ?? null, actual[field] ?? null];
    if (JSON.stringify(e) !== JSON.stringify(a)) out.push(Object.freeze({ field, expected: e, actual: a }));
  }
  return out;
}
function dominantOwner(objects) {
  const counts = /* @__PURE__ */ new Map();
  for (const o of objects) if (o.kind === "table" && o.owner) counts.set(o.owner, (counts.get(o.owner) ?? 0) + 1);
  let best = null;
  for (const [owner, n] of counts) if (best === null || n > counts.get(best)) best = owner;
  return best;
}
function compareDifferences(a, b) {
  return groupOf(a).localeCompare(groupOf(b)) || SCHEMA_OBJECT_KINDS.indexOf(a.kind) - SCHEMA_OBJECT_KINDS.indexOf(b.kind) || a.name.localeCompare(b.name);
}
function groupOf(d) {
  if (d.table) return `table ${d.table}`;
  return `${d.kind} ${d.schema ? `${d.schema}.` : ""}${d.name}`;
}
var TABLE_PARTS, RELATIONS, OWNED;
var init_compare_schema_catalogs = __esm({
  "src/schema-diff/compare-schema-catalogs.ts"() {
    "use strict";
    init_read_schema_catalog();
    TABLE_PARTS = /* @__PURE__ */ new Set(["column", "constraint", "index", "trigger", "policy", "sequence"]);
    RELATIONS = /* @__PURE__ */ new Set(["table", "view", "materialized view"]);
    OWNED = /* @__PURE__ */ new Set([
      "table",
      "view",
      "materialized view",
      "sequence",
      "function",
      "procedure",
      "aggregate",
      "enum",
      "domain"
    ]);
  }
});

// src/connect/owner-marker.ts
import { createHash as createHash5, randomBytes as randomBytes2 } from "node:crypto";
import { readFileSync as readFileSync8 } from "node:fs";
import { hostname as hostname3 } from "node:os";
function currentOwner() {
  self ??= Object.freeze({
    host: hostId(),
    boot: bootId().replace(/-/g, "").slice(0, 4).toLowerCase() || "0000",
    pid: process.pid,
    start: startTime(process.pid) ?? "0"
  });
  return self;
}
function cloneName(owner, prefix = CLONE_PREFIX) {
  return `${prefix}${owner.host}${owner.boot}_${owner.pid}_${owner.start}_${randomBytes2(3).toString("hex")}`;
}
function parseOwner(name) {
  const m = MARKER.exec(name);
  if (!m) return void 0;
  return Object.freeze({ host: m[1], boot: m[2], pid: Number(m[3]), start: m[4] });
}
function isOwnerGone(owner, me = currentOwner()) {
  if (owner.host !== me.host) return false;
  if (owner.boot !== me.boot) return owner.boot !== "0000" && me.boot !== "0000";
  if (owner.pid === me.pid) return owner.start !== me.start && owner.start !== "0" && me.start !== "0";
  if (!isProcessRunning(owner.pid, void 0)) return true;
  if (owner.start === "0") return false;
  const start = startTime(owner.pid);
  return start !== void 0 && start !== owner.start;
}
function hostId() {
  let machine = "";
  try {
    machine = readFileSync8("/etc/machine-id", "utf8").trim();
  } catch {
  }
  return createHash5("sha256").update(`${hostname3()}
${machine}`).digest("hex").slice(0, 6);
}
function startTime(pid) {
  const ticks = startTicks(pid);
  return ticks === void 0 ? void 0 : BigInt(ticks).toString(36);
}
var CLONE_PREFIX, MARKER, self;
var init_owner_marker = __esm({
  "src/connect/owner-marker.ts"() {
    "use strict";
    init_process_identity();
    CLONE_PREFIX = "wk_t_";
    MARKER = /^(?:wk_t_|wk_building_|wk_shadow_|wk_roundtrip_)([0-9a-f]{6})([0-9a-f]{4})_(\d+)_([0-9a-z]+)_[0-9a-f]+$/;
  }
});

// src/schema-diff/shadow-database.ts
var shadow_database_exports = {};
__export(shadow_database_exports, {
  dropOpenShadowDatabases: () => dropOpenShadowDatabases,
  isLeftover: () => isLeftover,
  onServer: () => onServer,
  openShadowDatabase: () => openShadowDatabase,
  withDatabase: () => withDatabase
});
import { sql as sql11 } from "kysely";
async function openShadowDatabase(options) {
  if (options.shadowUrl) return takeGivenShadow(options.shadowUrl);
  if (!options.serverUrl) {
    throw new MigrationError(
      "SHADOW_FAILED",
      "comparing schemas needs a database server to build the expected schema on: connect with a URL, or give an empty database as the shadow (--shadow-url)"
    );
  }
  const serverUrl = options.serverUrl;
  const name = cloneName(currentOwner(), `${options.prefix ?? "wk_shadow"}_`);
  await dropLeftovers(serverUrl);
  const [drop, create2] = [
    `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`,
    `CREATE DATABASE ${quoteIdent(name)}`
  ];
  const creating = run(serverUrl, create2);
  const shadow = register(
    { url: withDatabase(serverUrl, name), name, created: true },
    () => run(serverUrl, drop, create2),
    () => creating.catch(() => {
    }).then(() => run(serverUrl, drop))
  );
  await creating.catch((error) => {
    open.delete(shadow);
    throw new MigrationError(
      "SHADOW_FAILED",
      `cannot create the shadow database ${name} on the live database's server (${error.message}); give an empty database to use instead with --shadow-url`,
      { cause: error }
    );
  });
  return shadow;
}
async function dropLeftovers(serverUrl) {
  const { rows } = await onServer(
    serverUrl,
    (db) => sql11`select datname as name from pg_catalog.pg_database
      where datname like 'wk\_shadow\_%' or datname like 'wk\_roundtrip\_%'`.execute(db)
  ).catch(() => ({ rows: [] }));
  for (const { name } of rows.filter((r) => isLeftover(r.name)))
    await run(serverUrl, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => {
    });
}
function isLeftover(name) {
  const owner = parseOwner(name);
  return owner !== void 0 && isOwnerGone(owner);
}
async function dropOpenShadowDatabases() {
  await Promise.allSettled([...open].map((s) => s.drop()));
}
async function takeGivenShadow(url) {
  const name = decodeURIComponent(new URL(url).pathname.slice(1) || "(default database)");
  const { rows } = await onServer(url, (db) => sql11.raw(USER_OBJECTS_SQL).execute(db));
  if (rows.length) {
    throw new MigrationError(
      "SHADOW_NOT_EMPTY",
      `the shadow database ${name} is not empty (it has ${rows.map((r) => r.what).join(", ")}); give an empty database: the migration files are applied to it, and everything in it is dropped afterwards`
    );
  }
  const empty = () => run(url, EMPTY_DATABASE_SQL);
  return register({ url, name, created: false }, empty, empty);
}
function register(props, reset, remove) {
  let dropped;
  const shadow = Object.freeze({
    ...props,
    reset,
    drop: () => dropped ??= remove().finally(() => open.delete(shadow))
  });
  open.add(shadow);
  return shadow;
}
async function onServer(url, body) {
  const db = await createDatabase({ url, driver: "pg", max: 1, applicationName: "wukong-migrate shadow" });
  try {
    return await body(db);
  } finally {
    await db.destroy();
  }
}
function run(url, ...statements) {
  return onServer(url, async (db) => {
    for (const statement of statements) await sql11.raw(statement).execute(db);
  });
}
function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}
var open, USER_SCHEMAS, USER_OBJECTS_SQL, EMPTY_DATABASE_SQL;
var init_shadow_database = __esm({
  "src/schema-diff/shadow-database.ts"() {
    "use strict";
    init_sql_text();
    init_connect();
    init_owner_marker();
    init_migration_error();
    open = /* @__PURE__ */ new Set();
    USER_SCHEMAS = `nspname not in ('pg_catalog', 'information_schema', 'public') and nspname !~ '^pg_'`;
    USER_OBJECTS_SQL = `
select 'schema ' || nspname as what from pg_namespace where ${USER_SCHEMAS}
union all select 'extension ' || extname from pg_extension where extname <> 'plpgsql'
union all (select 'relation ' || relname from pg_class where relnamespace = 'public'::regnamespace limit 3)
union all (select 'function ' || proname from pg_proc where pronamespace = 'public'::regnamespace limit 3)
union all (select 'type ' || typname from pg_type
           where typnamespace = 'public'::regnamespace and typtype in ('e', 'd', 'c', 'r', 'm') limit 3)`;
    EMPTY_DATABASE_SQL = `
do $$
declare
  statements text[];
  statement text;
begin
  -- All written before any runs: a name read after a CASCADE dropped its object would be a bare oid.
  select coalesce(array_agg(s), '{}') into statements from (
    select format('drop extension if exists %I cascade', extname) as s from pg_extension where extname <> 'plpgsql'
    union all
    select format('drop schema if exists %I cascade', nspname) from pg_namespace where ${USER_SCHEMAS}
    union all
    select format('drop %s if exists public.%I cascade',
             case c.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence'
                            when 'f' then 'foreign table' else 'table' end, c.relname)
    from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
    union all
    select format('drop routine if exists public.%I(%s) cascade', p.proname, pg_get_function_identity_arguments(p.oid))
    from pg_proc p where p.pronamespace = 'public'::regnamespace
    union all
    select format('drop type if exists public.%I cascade', t.typname)
    from pg_type t
    where t.typnamespace = 'public'::regnamespace and t.typtype in ('e', 'd', 'c', 'r', 'm')
      and (t.typrelid = 0 or (select relkind from pg_class where oid = t.typrelid) = 'c')
  ) all_drops;
  foreach statement in array statements loop
    execute statement;
  end loop;
end
$$`;
  }
});

// src/schema-diff/diff-schema.ts
var diff_schema_exports = {};
__export(diff_schema_exports, {
  diffSchema: () => diffSchema
});
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join as join5 } from "node:path";
import { sql as sql12 } from "kysely";
async function diffSchema(options) {
  const [live, opened] = await Promise.allSettled([
    readLiveReadOnly(options.live),
    openShadowDatabase({ serverUrl: options.liveUrl, shadowUrl: options.shadowUrl })
  ]);
  if (live.status === "rejected") {
    if (opened.status === "fulfilled") await opened.value.drop();
    throw live.reason;
  }
  if (opened.status === "rejected") throw opened.reason;
  const { snapshot, catalog: actual } = live.value;
  const shadow = opened.value;
  const status = planMigrations(options.files, snapshot);
  const applied = new Set(status.applied.map((a) => a.version));
  const built = options.files.filter((f) => applied.has(f.version));
  let folder;
  let expected;
  try {
    folder = await mkdtemp(join5(tmpdir(), "wk-shadow-"));
    for (const file of built) await copyFile(file.path, join5(folder, file.fileName));
    await options.build(shadow.url, folder);
    expected = await onServer(shadow.url, readSchemaCatalog);
  } finally {
    await shadow.drop();
    if (folder) await rm(folder, { recursive: true, force: true });
  }
  const differences = compareSchemaCatalogs(expected, actual);
  return Object.freeze({
    inSync: differences.length === 0,
    currentVersion: status.currentVersion,
    builtFiles: Object.freeze(built.map((f) => f.fileName)),
    missingVersions: Object.freeze(status.missing.map((m) => m.version)),
    editedFiles: Object.freeze(status.drifted.map((d) => d.fileName)),
    differences,
    shadow: Object.freeze({ name: shadow.name, created: shadow.created })
  });
}
async function readLiveReadOnly(live) {
  return live.connection().execute(async (conn) => {
    await sql12`begin isolation level repeatable read read only`.execute(conn);
    try {
      const snapshot = await readLedgerSnapshot(conn);
      const catalog = await readSchemaCatalog(conn);
      return { snapshot, catalog };
    } finally {
      await sql12`rollback`.execute(conn).catch(() => {
      });
    }
  });
}
var init_diff_schema = __esm({
  "src/schema-diff/diff-schema.ts"() {
    "use strict";
    init_ledger();
    init_migration_plan();
    init_compare_schema_catalogs();
    init_read_schema_catalog();
    init_shadow_database();
  }
});

// src/schema-diff/verify-round-trip.ts
var verify_round_trip_exports = {};
__export(verify_round_trip_exports, {
  verifyRoundTrip: () => verifyRoundTrip
});
async function verifyRoundTrip(files, target, options = {}) {
  const catalogs = [await target.catalog()];
  for (const file of files) {
    await target.migrateTo(file.version);
    catalogs.push(await target.catalog());
  }
  const results = [];
  let trusted = true;
  for (let i = files.length - 1; i >= 0; i--) {
    const file = files[i];
    const result = (outcome, down2 = [], up = [], error = null) => Object.freeze({
      version: file.version,
      fileName: file.fileName,
      downFileName: file.down?.fileName ?? null,
      outcome,
      downDifferences: down2,
      upDifferences: up,
      error
    });
    if (!file.down) {
      results.push(result("no-down"));
      trusted = false;
      continue;
    }
    if (!trusted) {
      await target.reset();
      await target.migrateTo(file.version);
      trusted = true;
    }
    let down = [];
    try {
      await target.down();
      down = compareSchemaCatalogs(catalogs[i], await target.catalog());
      if (down.length) {
        results.push(result("down-differs", down));
        trusted = false;
        continue;
      }
      await target.migrateTo(file.version);
      const up = compareSchemaCatalogs(catalogs[i + 1], await target.catalog());
      if (up.length) {
        results.push(result("up-differs", down, up));
        trusted = false;
        continue;
      }
      await target.down();
      results.push(result("proven"));
    } catch (error) {
      results.push(result("failed", down, [], error));
      trusted = false;
    }
  }
  const ok = results.every((r) => r.outcome === "proven" || r.outcome === "no-down" && !options.requireDown);
  return Object.freeze({ ok, files: Object.freeze(results) });
}
var init_verify_round_trip = __esm({
  "src/schema-diff/verify-round-trip.ts"() {
    "use strict";
    init_compare_schema_catalogs();
  }
});

// src/runner/migration-runner.ts
var migration_runner_exports = {};
__export(migration_runner_exports, {
  RunnerEngine: () => RunnerEngine
});
import { PostgresAdapter as PostgresAdapter2, sql as sql13 } from "kysely";
import { DEFAULT_MIGRATION_LOCK_TABLE, MIGRATION_LOCK_ID as MIGRATION_LOCK_ID2 } from "kysely/migration";
function withBoundedLock(db, waitTimeoutMs) {
  if (db.getExecutor().adapter.constructor !== PostgresAdapter2) return db;
  return withBoundedSessionMigrationLock(db, { waitTimeoutMs });
}
function interrupted(error, atomic) {
  if (error.code === "INTERRUPTED") return error;
  const { file, line, column } = error;
  const at = line === void 0 ? "" : ` at line ${line}`;
  const kept = atomic ? "its transaction rolled back, nothing of it was applied" : `it is not atomic (-- wukong:no-transaction): its statements before line ${line ?? "?"} committed, and it is not recorded as applied`;
  const reason = file ? `interrupted: ${file} was canceled on the server${at}; ${kept}` : `interrupted: ${error.reason}`;
  return new MigrationError("INTERRUPTED", reason, { file, line, column, sqlState: error.sqlState, cause: error });
}
var ANSWER_MARGIN_MS, INTERRUPT_GRACE_MS, DONE, RunnerEngine;
var init_migration_runner = __esm({
  "src/runner/migration-runner.ts"() {
    "use strict";
    init_connect();
    init_migration_error();
    init_sql_state();
    init_still_running_error();
    init_ledger();
    init_migration_plan();
    init_migration_sql_error();
    init_migration_state();
    init_run_migrations();
    init_sql_file_migration_provider();
    init_with_lock_timeout();
    init_migration_run_error();
    init_resolve_timeouts();
    init_wrap_run_error();
    ANSWER_MARGIN_MS = 1e4;
    INTERRUPT_GRACE_MS = 1e4;
    DONE = { apply: "applied", adopt: "adopted", heal: "healed", revert: "reverted" };
    RunnerEngine = class _RunnerEngine {
      #props;
      #provider;
      #timeouts;
      #log;
      #db;
      #close;
      #url;
      #source = "db";
      #lock = "given";
      #sessionLockTimeoutMs;
      #sever;
      #session;
      #handover;
      constructor(options = {}, provider = providerFor(options), handover) {
        this.#props = Object.freeze({ ...options });
        this.#provider = provider;
        this.#timeouts = resolveTimeouts(options.timeouts, options.env);
        this.#log = options.log ?? ((line) => void process.stderr.write(`${line}
`));
        this.#handover = handover;
      }
      get source() {
        return this.#source;
      }
      get lock() {
        return this.#lock;
      }
      get inFlight() {
        const session = this.#session;
        return session?.running.length ? Object.freeze({ files: session.running, backendPid: this.#backendPid(session) }) : void 0;
      }
      // Unknown behind a transaction-mode pooler (each transaction may get another) and in-process.
      #backendPid(session) {
        return this.#lock === "transaction" || this.#source === "embedded" ? void 0 : session.backendPid;
      }
      async migrate() {
        const heads = this.#provider.scanFiles();
        const checked = this.#handover?.checked;
        const db = await this.#guard(() => this.#connect());
        if (checked) return this.#execute(db, { direction: "up" });
        const read2 = () => this.#bounded(db, (c) => checkUpToDate(rawQuery(c), heads, this.#props.ledgerSchema));
        const upToDate = await this.#guard(
          () => read2().catch((error) => isLostConnection(error) ? read2() : Promise.reject(error))
        );
        if (upToDate) return Object.freeze({ results: [], currentVersion: upToDate.currentVersion });
        return this.#execute(db, { direction: "up" });
      }
      async status() {
        const heads = this.#provider.scanFiles();
        const db = await this.#guard(() => this.#connect());
        const snapshot = await this.#guard(() => this.#bounded(db, (c) => readLedgerSnapshot(c, this.#props.ledgerSchema)));
        const status = planMigrations(heads, snapshot, { allowDrift: this.#props.allowDrift });
        const pending = new Set(status.pending.map((p) => p.version));
        const files = await this.#provider.parseFiles(heads.filter((h) => pending.has(h.version)));
        const parsed = (p) => {
          const { sql: parsedSql } = files.find((f) => f.version === p.version);
          return Object.freeze({ ...p, statements: parsedSql.statements.length, atomic: parsedSql.transactional });
        };
        return Object.freeze({ ...status, pending: status.pending.map(parsed), outOfOrder: status.outOfOrder.map(parsed) });
      }
      async plan() {
        const files = await this.#provider.loadFiles();
        const status = await this.status();
        if (status.refusal) throw status.refusal;
        return status.pending.map((p) => {
          const statementTexts = files.find((f) => f.version === p.version).sql.statements.map((s) => s.text);
          return Object.freeze({ ...p, statementTexts });
        });
      }
      async down(options = {}) {
        const db = await this.#guard(() => this.#connect());
        return this.#execute(db, { direction: "down", to: options.to });
      }
      // 0 reverts everything, a `000_…` file included.
      async migrateTo(version) {
        const files = await this.#provider.loadFiles();
        if (version !== 0 && !files.some((f) => f.version === version)) {
          throw new MigrationError("NOT_FOUND", `no migration file has version ${version}`);
        }
        const db = await this.#guard(() => this.#connect());
        return this.#execute(db, { direction: "to", to: version });
      }
      async diff(options = {}) {
        const files = await this.#provider.loadFiles();
        const db = await this.#guard(() => this.#connect());
        const { diffSchema: diffSchema2 } = await Promise.resolve().then(() => (init_diff_schema(), diff_schema_exports));
        return this.#guard(
          () => diffSchema2({
            live: db,
            liveUrl: this.#url,
            shadowUrl: options.shadowUrl,
            files,
            build: async (url, migrationFolder) => {
              const shadow = this.#scratch(url, migrationFolder);
              await shadow.migrate().finally(() => shadow.close());
            }
          })
        );
      }
      async verifyRoundTrip(options = {}) {
        const files = await this.#provider.loadFiles();
        const [{ readSchemaCatalog: readSchemaCatalog2 }, { openShadowDatabase: openShadowDatabase2 }, { verifyRoundTrip: verifyRoundTrip2 }, { createDatabase: createDatabase2 }] = await Promise.all([
          Promise.resolve().then(() => (init_read_schema_catalog(), read_schema_catalog_exports)),
          Promise.resolve().then(() => (init_shadow_database(), shadow_database_exports)),
          Promise.resolve().then(() => (init_verify_round_trip(), verify_round_trip_exports)),
          Promise.resolve().then(() => (init_create_database(), create_database_exports))
        ]);
        const serverUrl = options.shadowUrl ? void 0 : resolveDatabaseUrl(this.#props.url, this.#props.env ?? process.env).url;
        return this.#guard(async () => {
          const shadow = await openShadowDatabase2({ serverUrl, shadowUrl: options.shadowUrl, prefix: "wk_roundtrip" });
          let scratch;
          let reader;
          const runner = () => scratch ??= this.#scratch(shadow.url, this.#provider.migrationFolder);
          const close = async () => {
            await scratch?.close();
            await reader?.destroy();
            [scratch, reader] = [void 0, void 0];
          };
          try {
            return await verifyRoundTrip2(
              files,
              {
                migrateTo: async (version) => void await runner().migrateTo(version),
                down: async () => void await runner().down(),
                catalog: async () => {
                  reader ??= await createDatabase2({ url: shadow.url, driver: "pg", max: 1 });
                  return readSchemaCatalog2(reader);
                },
                reset: async () => {
                  await close();
                  await shadow.reset();
                }
              },
              options
            );
          } finally {
            await close();
            await shadow.drop();
          }
        });
      }
      async close() {
        const [db, close] = [this.#db, this.#close];
        this.#db = void 0;
        this.#close = void 0;
        this.#sessionLockTimeoutMs = void 0;
        this.#sever = void 0;
        if (db) await db.catch(() => {
        });
        await close?.();
      }
      /** A quiet engine for a shadow or scratch database, bounded and interrupted as this one is. */
      #scratch(url, migrationFolder) {
        const { lockMs } = this.#timeouts;
        return new _RunnerEngine({ url, migrationFolder, log: () => {
        }, timeouts: { lockMs }, signal: this.#props.signal });
      }
      // Every run, up or down: the one engine under the connection's migration lock, then results true to what committed.
      async #execute(db, target) {
        const files = await this.#provider.loadFiles();
        const adapter = db.getExecutor().adapter;
        const lock = Object.freeze({ lockTable: DEFAULT_MIGRATION_LOCK_TABLE, lockRowId: MIGRATION_LOCK_ID2 });
        let outcome;
        const session = { running: [] };
        const { signal } = this.#props;
        const { lockWaitMs } = this.#timeouts;
        const underLock = async (conn) => {
          const bound = this.#answerBoundMs(lockWaitMs > 0 ? lockWaitMs : -1);
          await this.#answered(adapter.acquireMigrationLock(conn, lock), bound, "the migration lock request");
          try {
            outcome = await runMigrations(conn, files, {
              target,
              allowDrift: this.#props.allowDrift,
              schema: this.#props.ledgerSchema,
              timeouts: this.#timeouts,
              onApply: this.#props.onApply,
              // A caller watching progress hears of each file as it commits; an app's boot gets batches.
              maxBatchFiles: this.#props.onApply ? 1 : void 0,
              signal,
              session,
              ownQuery: (query) => this.#answered(query)
            });
          } finally {
            await this.#answered(adapter.releaseMigrationLock(conn, lock));
          }
        };
        let failure;
        this.#session = session;
        try {
          const run2 = db.isTransaction ? underLock(db) : db.connection().execute(underLock);
          await (signal ? this.#cancelOnAbort(db, run2, session, signal) : run2);
        } catch (error2) {
          failure = error2;
        } finally {
          this.#session = void 0;
        }
        if (!outcome) throw new MigrationRunError(this.#wrap(failure), []);
        const done = outcome;
        const error = done.error ?? failure;
        const events = new Map(done.events.map((e) => [e.name, e]));
        const after = error === void 0 ? void 0 : await this.#bounded(db, (c) => readLedgerSnapshot(c, this.#props.ledgerSchema)).catch(() => void 0);
        const inLedger = new Set(after?.rows.map((r) => r.version));
        const isDone = (step) => inLedger.has(step.file.version) !== (step.action === "revert");
        const bookkeeping = done.error instanceof MigrationError && done.error.code === "BOOKKEEPING_FAILED";
        const recordedOnlyByUs = bookkeeping && after && done.failed && isDone(done.failed) ? done.failed : void 0;
        let failed = done.failed;
        if (failed && after && !recordedOnlyByUs && isDone(failed)) {
          failed = done.steps.slice(done.steps.indexOf(failed)).find((s) => !isDone(s));
        }
        const statusOf = (step) => {
          if (step === recordedOnlyByUs) return "applied";
          if (step === failed) return "failed";
          if (after && !isDone(step)) return "not-run";
          return events.get(step.file.name)?.kind ?? (after ? DONE[step.action] : "not-run");
        };
        const results = done.steps.map((step) => {
          const event = events.get(step.file.name);
          const sqlFile = step.action === "revert" && step.file.down ? step.file.down : step.file;
          return Object.freeze({
            version: step.file.version,
            name: step.file.name,
            fileName: event?.fileName ?? sqlFile.fileName,
            status: statusOf(step),
            durationMs: event?.durationMs,
            atomic: event?.atomic ?? sqlFile.sql.transactional
          });
        });
        if (error !== void 0) {
          const named = done.error !== void 0 && failed && !(done.error instanceof MigrationError) ? toMigrationError(done.error, failed.file.fileName) : error;
          const wrapped = this.#wrap(named);
          const atomic = results.find((r) => r.status === "failed")?.atomic ?? true;
          throw new MigrationRunError(signal?.aborted ? interrupted(wrapped, atomic) : wrapped, results);
        }
        const versions = [...done.versions];
        return Object.freeze({ results, currentVersion: versions.length ? Math.max(...versions) : null });
      }
      /**
       * Once `signal` aborts, cancels the statement the run's server process is running (from another
       * connection) and waits for the rollback at most INTERRUPT_GRACE_MS; a run still waiting for the
       * migration lock is dropped at once, its sockets destroyed.
       */
      #cancelOnAbort(db, run2, session, signal) {
        return new Promise((resolve5, reject) => {
          let timer;
          const giveUp = (error) => {
            this.#sever?.();
            reject(error);
          };
          const onAbort = () => {
            const pid = session.backendPid;
            if (pid === void 0) {
              giveUp(new MigrationError("INTERRUPTED", "interrupted while waiting for the migration lock; no file ran"));
              return;
            }
            const files = session.running.join(", ");
            const known = this.#backendPid(session) !== void 0;
            if (files && known) sql13`select pg_catalog.pg_cancel_backend(${pid})`.execute(db).catch(() => {
            });
            const where = known ? `, backend pid ${pid}` : this.#lock === "transaction" ? " (through the pooler)" : "";
            timer = setTimeout(
              () => giveUp(
                new StillRunningError(
                  `interrupted, but the run did not stop within ${INTERRUPT_GRACE_MS} ms${known ? " of the cancel request" : ""}: ${files || "its last statement"} may still be running on the server${where}`,
                  known ? pid : void 0
                )
              ),
              INTERRUPT_GRACE_MS
            );
          };
          run2.finally(() => {
            clearTimeout(timer);
            signal.removeEventListener("abort", onAbort);
          }).then(resolve5, reject);
          if (signal.aborted) onAbort();
          else signal.addEventListener("abort", onAbort, { once: true });
        });
      }
      /** The runner's own bookkeeping queries, under its lock timeout and answer bound. */
      #bounded(db, body) {
        const ms = this.#timeouts.lockMs;
        return this.#answered(withLockTimeout(db, ms, body, { preset: this.#sessionLockTimeoutMs === ms }));
      }
      /**
       * Bounds the wait for the answer to one of the tool's own queries (not a file's statements,
       * which may rightly run for hours); past it every socket is destroyed and the call fails with
       * CONNECTION_FAILED. Unbounded when `lockMs` is 0, and for the embedded database.
       */
      #answered(query, ms = this.#answerBoundMs(0), what = "the migration tool's own query") {
        if (ms <= 0 || this.#source === "embedded") return query;
        return new Promise((resolve5, reject) => {
          const timer = setTimeout(() => {
            this.#sever?.();
            const reason = `no answer within ${ms} ms to ${what}: the server or the network stopped responding, so the connection was closed`;
            reject(new MigrationError("CONNECTION_FAILED", reason, { cause: new Error(reason) }));
          }, ms);
          query.then(resolve5, reject).finally(() => clearTimeout(timer));
        });
      }
      /** How long to wait for an answer that may first wait `waitMs` on the server; 0: forever. */
      #answerBoundMs(waitMs) {
        const { lockMs } = this.#timeouts;
        return lockMs > 0 && waitMs >= 0 ? Math.max(lockMs, waitMs) + ANSWER_MARGIN_MS : 0;
      }
      #connect() {
        this.#db ??= (async () => {
          if (this.#props.db) return withBoundedLock(this.#props.db, this.#timeouts.lockWaitMs);
          const env = this.#props.env ?? process.env;
          const folder = embeddedDataDir(env);
          const options = {
            url: this.#props.url,
            env,
            embedded: this.#props.embedded,
            driver: this.#props.driver,
            pooled: this.#props.pooled,
            dataDir: folder,
            timeouts: this.#timeouts,
            pool: this.#handover?.pool,
            onBusy: (holder) => {
              const command = holder?.command ? ` (${holder.command})` : "";
              const who = holder ? `process ${holder.pid}${command}` : "another process";
              const bound = this.#timeouts.embeddedBusyMs;
              this.#log(`The embedded database in ${folder} is open in ${who}; waiting up to ${bound} ms for it to close`);
            }
          };
          const resolved = resolveMigrationUrl(options);
          this.#source = resolved.source;
          this.#url = resolved.url;
          this.#handover = void 0;
          const target = await openMigrationDatabase(options, resolved);
          this.#lock = target.lock;
          this.#sessionLockTimeoutMs = target.sessionLockTimeoutMs;
          this.#close = () => target.close();
          this.#sever = () => target.sever();
          if (this.#props.announce === false) return target.db;
          if (target.source === "embedded") {
            const why = this.#props.embedded === true ? "embedded: true" : `none of ${DATABASE_URL_VARIABLES.join(", ")} is set`;
            this.#log(`Using the embedded PGlite database in ${folder} (${why})`);
          } else if (target.source !== "option" && target.url) {
            this.#log(`Using the database from ${target.source} (${redactUrl(target.url)})`);
          }
          return target.db;
        })();
        return this.#db;
      }
      /** A database call: connection failures become a redacted CONNECTION_FAILED; an abort gives up at once (it only reads). */
      async #guard(call) {
        const signal = this.#props.signal;
        const stopped = () => new MigrationError("INTERRUPTED", "interrupted; nothing was written");
        try {
          if (!signal) return await call();
          signal.throwIfAborted();
          return await new Promise((resolve5, reject) => {
            const onAbort = () => {
              this.#sever?.();
              reject(stopped());
            };
            signal.addEventListener("abort", onAbort, { once: true });
            call().then(resolve5, reject).finally(() => signal.removeEventListener("abort", onAbort));
          });
        } catch (error) {
          if (signal?.aborted && !(error instanceof MigrationError)) throw stopped();
          throw this.#wrap(error);
        }
      }
      #wrap(error) {
        return wrapRunError(error, {
          url: this.#url ?? this.#props.url,
          urlOption: this.#props.url,
          env: this.#props.env ?? process.env,
          source: this.#source,
          connectMs: this.#timeouts.connectMs
        });
      }
    };
  }
});

// src/runner/runner.ts
var MigrationRunner;
var init_runner = __esm({
  "src/runner/runner.ts"() {
    "use strict";
    init_guarded_pool();
    init_pg_config();
    init_pooled_url();
    init_redact();
    init_resolve_database_url();
    init_migration_state();
    init_sql_file_migration_provider();
    init_resolve_timeouts();
    init_wrap_run_error();
    MigrationRunner = class {
      #props;
      #provider;
      #engine;
      #loaded;
      #announced = false;
      #source = "db";
      #lock = "given";
      #handover;
      constructor(options = {}) {
        this.#props = Object.freeze({ ...options });
        this.#provider = providerFor(options);
      }
      /** The provider this runner hands to Kysely's Migrator. */
      get provider() {
        return this.#provider;
      }
      /** The folder of migration files; undefined for the package's bundled migrations. */
      get migrationFolder() {
        return this.#provider.migrationFolder;
      }
      /** Which setting chose the database: `option`, an environment variable, `embedded` or `db`. */
      get source() {
        return this.#loaded?.source ?? this.#source;
      }
      /**
       * How migrators exclude one another on this connection: Kysely's `session` advisory lock,
       * a `transaction`-scoped lock (pooled URLs, the vercel driver), or `given` (a `db` passed in).
       */
      get lock() {
        return this.#loaded?.lock ?? this.#lock;
      }
      /** The files a run has on the server now, and its backend when that is known (to name after a second Ctrl-C). */
      get inFlight() {
        return this.#loaded?.inFlight;
      }
      /** Reads and validates the files without touching any database (throws on the first problem). */
      verify() {
        return this.#provider.loadFiles();
      }
      /**
       * Applies every pending file (see the class). Throws a `MigrationRunError` naming the file,
       * with every file's outcome.
       */
      async migrate() {
        const upToDate = await this.#upToDate();
        if (upToDate) return Object.freeze({ results: [], currentVersion: upToDate.currentVersion });
        return (await this.#load()).migrate();
      }
      /** Where the database stands: applied, pending, edited, renamed, missing, out of order; reads only. */
      async status() {
        return (await this.#upToDate(true))?.status ?? (await this.#load()).status();
      }
      /** The files `migrate()` would apply, with their statements, touching nothing. */
      async plan() {
        return (await this.#load()).plan();
      }
      /** Reverts the last applied file (with its `.down.sql`), or every file above `to`. */
      async down(options = {}) {
        return (await this.#load()).down(options);
      }
      /** Migrates up or down so that `version` is the last applied; 0 reverts everything. */
      async migrateTo(version) {
        return (await this.#load()).migrateTo(version);
      }
      /**
       * Compares the live database with what its applied files build (on a shadow database).
       *
       * @example
       * ```ts
       * const { inSync, differences } = await runner.diff()
       * ```
       */
      async diff(options = {}) {
        return (await this.#load()).diff(options);
      }
      /**
       * Proves the down files on a scratch database: each must restore the schema its up file found.
       *
       * @example
       * ```ts
       * const report = await runner.verifyRoundTrip()
       * if (!report.ok) console.log(report.files.filter((f) => f.outcome !== 'proven'))
       * ```
       */
      async verifyRoundTrip(options = {}) {
        return (await this.#load()).verifyRoundTrip(options);
      }
      /** Closes the connection the runner opened (not a `db` it was given). */
      async close() {
        await this.#handover?.pool.end().catch(() => {
        });
        this.#handover = void 0;
        const engine = this.#engine;
        this.#engine = void 0;
        this.#loaded = void 0;
        if (engine) await (await engine).close();
      }
      /** The migration engine, loaded on first use (Kysely, the drivers, the apply code). */
      #load() {
        const handover = this.#handover;
        this.#handover = void 0;
        this.#engine ??= Promise.resolve().then(() => (init_migration_runner(), migration_runner_exports)).then(({ RunnerEngine: Engine }) => {
          const announce = this.#announced ? false : this.#props.announce;
          this.#loaded = new Engine({ ...this.#props, announce }, this.#provider, handover);
          return this.#loaded;
        });
        return this.#engine;
      }
      /**
       * The one-query check over a bare pg connection, before anything else is loaded: an up-to-date
       * database's version (and its status, when asked), or undefined when there is work (or anything
       * but a clear answer), for the engine to take over on the same pool. A connection that timed out
       * is reported, not tried again.
       */
      async #upToDate(withStatus = false) {
        const props = this.#props;
        if (this.#engine || props.db || props.embedded === true || props.signal?.aborted) return void 0;
        if (props.driver && props.driver !== "pg") return void 0;
        const env = props.env ?? process.env;
        let resolved;
        try {
          resolved = resolveDatabaseUrl(props.url, env);
        } catch {
          return void 0;
        }
        const { url, source } = resolved;
        if (!url || source === "embedded") return void 0;
        const heads = this.#provider.scanFiles();
        const { connectMs, lockMs } = resolveTimeouts(props.timeouts, env);
        const timeoutMs = connectTimeoutOf(url, connectMs);
        let config;
        try {
          config = pgPoolConfig(url, { max: 3, applicationName: "wukong-migrate", connectTimeoutMs: connectMs });
        } catch {
          return void 0;
        }
        const pool = new GuardedPool(config);
        let handed = false;
        const started = performance.now();
        try {
          let client;
          try {
            client = await pool.connect();
          } catch (error) {
            if (timeoutMs === 0 || performance.now() - started < timeoutMs) return void 0;
            throw wrapRunError(error, { url, urlOption: props.url, env, source, connectMs });
          }
          let upToDate;
          let failed = true;
          try {
            this.#source = source;
            this.#lock = props.pooled ?? isPooledUrl(url) ? "transaction" : "session";
            const query = async (text) => {
              const results = await client.query(
                `SET TRANSACTION READ ONLY;
SET LOCAL lock_timeout = ${lockMs};
${text}`
              );
              return results[2].rows;
            };
            upToDate = await checkUpToDate(query, heads, props.ledgerSchema, withStatus);
            failed = false;
          } catch {
            upToDate = void 0;
          } finally {
            client.release(failed);
          }
          if (!upToDate) {
            this.#handover = { pool, checked: !failed };
            handed = true;
            return void 0;
          }
          if (source !== "option" && props.announce !== false) {
            const log = props.log ?? ((line) => process.stderr.write(`${line}
`));
            log(`Using the database from ${source} (${redactUrl(url)})`);
            this.#announced = true;
          }
          return upToDate;
        } finally {
          if (!handed) await pool.end().catch(() => {
          });
        }
      }
    };
  }
});

// src/cli/format.ts
import { relative, isAbsolute } from "node:path";
function formatDuration(ms) {
  if (ms < 1e3) return `${Math.round(ms)} ms`;
  if (ms < 6e4) return `${(ms / 1e3).toFixed(1)} s`;
  const minutes = Math.floor(ms / 6e4);
  const seconds = Math.round(ms % 6e4 / 1e3);
  return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
}
function displayPath(path, cwd) {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}
function plural(count2, noun) {
  return `${count2} ${noun}${count2 === 1 ? "" : "s"}`;
}
var init_format = __esm({
  "src/cli/format.ts"() {
    "use strict";
  }
});

// src/cli/command-context.ts
async function withRunner(ctx, options, body) {
  const runner = new MigrationRunner({
    url: ctx.args.url,
    embedded: ctx.args.embedded || void 0,
    env: ctx.io.env,
    migrationFolder: ctx.folder,
    ledgerSchema: ctx.args.ledgerSchema ?? (ctx.io.env["WUKONG_LEDGER_SCHEMA"] || void 0),
    allowDrift: ctx.args.allowDrift,
    timeouts: {
      lockMs: ctx.args.lockTimeoutMs,
      lockWaitMs: ctx.args.lockWaitTimeoutMs,
      connectMs: ctx.args.connectTimeoutMs,
      statementMs: ctx.args.statementTimeoutMs,
      embeddedBusyMs: ctx.args.busyTimeoutMs
    },
    // Notices go to stderr so stdout stays the report; the embedded database is announced even with --json.
    log: (line) => ctx.out.error(line),
    announce: ctx.target?.source === "embedded",
    onApply: options.onApply,
    signal: ctx.interrupts?.signal
  });
  ctx.interrupts?.runners.add(runner);
  try {
    return await body(runner);
  } finally {
    ctx.interrupts?.runners.delete(runner);
    await runner.close().catch(() => {
    });
  }
}
function describeTarget(target) {
  if (!target) return "";
  return target.source === "embedded" ? `embedded PGlite in ${target.dataDir}` : `${target.url} (from ${target.source})`;
}
function printHeader(ctx) {
  const c = ctx.out.out;
  ctx.out.line(`${c.bold("Database:")} ${describeTarget(ctx.target)}`);
  ctx.out.line(`${c.bold("Folder:")}   ${displayPath(ctx.folder, ctx.io.cwd)}`);
}
var init_command_context = __esm({
  "src/cli/command-context.ts"() {
    "use strict";
    init_runner();
    init_format();
  }
});

// src/cli/run-printer.ts
function statusCounts(results) {
  const counts = { applied: 0, adopted: 0, healed: 0, reverted: 0, failed: 0, "not-run": 0 };
  for (const r of results) counts[r.status]++;
  return counts;
}
function countsLine(results) {
  return Object.entries(statusCounts(results)).filter(([, n]) => n).map(([s, n]) => `${n} ${s.replace("-", " ")}`).join(", ");
}
function versionPhrase(version) {
  return version === null ? "no migration is applied" : `the database is at version ${version}`;
}
var COLOUR, RunPrinter;
var init_run_printer = __esm({
  "src/cli/run-printer.ts"() {
    "use strict";
    init_format();
    COLOUR = { applied: "green", "not-run": "dim", reverted: "yellow", adopted: "cyan", healed: "cyan" };
    RunPrinter = class {
      #out;
      #width;
      #printed = /* @__PURE__ */ new Map();
      constructor(out, fileNames) {
        this.#out = out;
        this.#width = Math.max(0, ...fileNames.map((f) => f.length));
      }
      event(event) {
        this.#print({ ...event, status: event.kind });
      }
      /** Corrects any file announced but not committed: the results are the ledger's truth. */
      results(results) {
        for (const r of results) {
          const shown = this.#printed.get(r.name);
          if (shown === r.status) continue;
          this.#print({ ...r, durationMs: shown === void 0 ? r.durationMs : void 0 }, shown !== void 0);
        }
      }
      #print(file, correction = false) {
        const { name, status, fileName, durationMs, atomic } = file;
        const c = this.#out.out;
        this.#printed.set(name, status);
        const colour = status === "failed" ? (t) => c.red(c.bold(t)) : c[COLOUR[status]];
        const label = status === "failed" ? "FAILED" : status.replace("-", " ");
        const notes = [atomic ? "" : "not atomic", correction ? "rolled back: not committed" : ""].filter(Boolean);
        const duration = durationMs === void 0 ? " ".repeat(notes.length ? 9 : 0) : formatDuration(durationMs).padStart(9);
        this.#out.line(
          `  ${colour(label.padEnd(9))} ${fileName.padEnd(this.#width)} ${duration}${notes.length ? c.dim(`  (${notes.join("; ")})`) : ""}`.trimEnd()
        );
      }
    };
  }
});

// src/cli/commands/migrate.ts
var migrate_exports = {};
__export(migrate_exports, {
  migrateCommand: () => migrateCommand,
  runCommand: () => runCommand
});
function migrateCommand(ctx) {
  return runCommand(ctx, "migrate", (runner) => runner.migrate());
}
async function runCommand(ctx, verb, go) {
  const { out } = ctx;
  const started = performance.now();
  const fields = (result, results = result?.results ?? []) => ({
    results: results.map(({ version, name, fileName, status, durationMs, atomic }) => {
      return { version, name, fileName, status, durationMs: tenths(durationMs), atomic };
    }),
    summary: statusCounts(results),
    currentVersion: result?.currentVersion ?? null,
    durationMs: Math.round(performance.now() - started)
  });
  let printer;
  return withRunner(ctx, { onApply: (event) => printer?.event(event) }, async (runner) => {
    try {
      const files = runner.provider.scanFiles();
      printer = new RunPrinter(
        out,
        files.flatMap((f) => [f.fileName, f.down?.fileName ?? ""])
      );
      out.line(
        out.out.dim(
          `${verb === "migrate" ? "Migrating" : "Reverting"} ${describeTarget(ctx.target)} with ${displayPath(ctx.folder, ctx.io.cwd)}`
        )
      );
      const outcome = await go(runner);
      if (typeof outcome === "string") {
        out.line(outcome);
        return { exitCode: EXIT.OK, fields: fields() };
      }
      const took = formatDuration(performance.now() - started);
      if (outcome.results.length === 0)
        out.line(out.out.green(`Already up to date; ${versionPhrase(outcome.currentVersion)}.`));
      else
        out.line(
          out.out.green(`Done: ${countsLine(outcome.results)} in ${took}; ${versionPhrase(outcome.currentVersion)}.`)
        );
      return { exitCode: EXIT.OK, fields: fields(outcome) };
    } catch (error) {
      if (!(error instanceof MigrationRunError)) return { exitCode: EXIT.FAILED, fields: fields(), error };
      printer?.results(error.results);
      const now = await runner.status().then(
        (s) => s.currentVersion,
        () => void 0
      );
      const after = now === void 0 ? "" : `; ${versionPhrase(now)}`;
      const result = { results: error.results, currentVersion: now ?? null };
      return {
        exitCode: EXIT.FAILED,
        fields: fields(result),
        error,
        // After the error block, so it is the last line a person sees.
        trailer: out.out.red(
          `${verb === "migrate" ? "Migration" : "Revert"} failed: ${countsLine(error.results) || "no file ran"} in ${formatDuration(performance.now() - started)}${after}.`
        )
      };
    }
  });
}
function tenths(ms) {
  return ms === void 0 ? null : Math.round(ms * 10) / 10;
}
var init_migrate = __esm({
  "src/cli/commands/migrate.ts"() {
    "use strict";
    init_migration_run_error();
    init_command_context();
    init_exit_codes();
    init_format();
    init_run_printer();
  }
});

// src/cli/commands/status.ts
var status_exports = {};
__export(status_exports, {
  statusCommand: () => statusCommand
});
import { join as join6 } from "node:path";
async function statusCommand(ctx) {
  let status;
  try {
    status = await withRunner(ctx, {}, (runner) => runner.status());
  } catch (error) {
    return { exitCode: EXIT.FAILED, fields: statusFields(), error };
  }
  if (!ctx.out.json) print(ctx, status);
  return {
    exitCode: ctx.args.check && !status.isUpToDate ? EXIT.NOT_UP_TO_DATE : EXIT.OK,
    fields: statusFields(status)
  };
}
function statusFields(s) {
  return {
    currentVersion: s?.currentVersion ?? null,
    isUpToDate: s?.isUpToDate ?? false,
    applied: s?.applied ?? [],
    pending: s?.pending ?? [],
    drifted: s?.drifted ?? [],
    missing: s?.missing ?? [],
    renamed: s?.renamed ?? [],
    outOfOrder: s?.outOfOrder ?? [],
    ledgerSchema: s?.ledgerSchema ?? null,
    otherSets: s?.otherSets ?? [],
    adopted: s?.adopted ?? []
  };
}
function print(ctx, status) {
  const { out } = ctx;
  const c = out.out;
  printHeader(ctx);
  out.line(`${c.bold("Ledger:")}   ${status.ledgerSchema}.schema_versions`);
  if (status.otherSets.length)
    out.line(
      c.dim(
        `          other migration sets here: ${status.otherSets.join(", ")} (status --ledger-schema <schema> shows one)`
      )
    );
  out.line();
  const drifted = new Set(status.drifted.map((d) => d.version));
  const renamed = new Map(status.renamed.map((r) => [r.version, r.appliedFileName]));
  const late = new Set(status.outOfOrder.map((p) => p.version));
  const rows = [
    ...status.applied.map((a) => {
      const was = renamed.get(a.version);
      const row2 = { version: a.version, fileName: a.fileName, ...appliedRow(a, drifted.has(a.version), c) };
      return was ? { ...row2, label: "RENAMED", colour: (t) => c.red(c.bold(t)), note: `applied as ${was}; renamed since` } : row2;
    }),
    ...status.pending.map(
      (p) => ({
        version: p.version,
        fileName: p.fileName,
        label: late.has(p.version) ? "LATE" : "pending",
        colour: late.has(p.version) ? (t) => c.red(c.bold(t)) : c.yellow,
        note: late.has(p.version) ? `numbered below the applied version ${status.currentVersion}: migrate refuses it (OUT_OF_ORDER)` : `${plural(p.statements, "statement")}${p.atomic ? "" : ", not atomic"}`
      })
    ),
    ...status.missing.map(
      (m) => ({
        version: m.version,
        fileName: m.fileName ?? `version ${m.version}`,
        label: "MISSING",
        colour: (t) => c.red(c.bold(t)),
        note: `applied ("${m.description}") but no such file in the folder`
      })
    )
  ].sort((a, b) => a.version - b.version);
  const width = Math.max(0, ...rows.map((r) => r.fileName.length));
  for (const r of rows)
    out.line(`  ${r.colour(r.label.padEnd(8))} ${r.fileName.padEnd(width)}  ${c.dim(r.note)}`.trimEnd());
  if (rows.length === 0) out.line(c.dim("  (no migration files, nothing applied)"));
  out.line();
  const problems = ["pending", "drifted", "missing", "renamed"].filter((k) => status[k].length).map((k) => `${status[k].length} ${k}`);
  const unfinished = status.applied.filter((a) => !a.recordedByKysely || a.checksumMatches === null);
  const where = versionPhrase(status.currentVersion);
  if (status.isUpToDate) {
    out.line(c.green(`Up to date: ${where} (${plural(status.applied.length, "file")} applied).`));
    return;
  }
  const summary2 = problems.length ? problems.join(", ") : `bookkeeping of ${plural(unfinished.length, "file")} to complete`;
  out.line(c.yellow(`Not up to date: ${where}; ${summary2}.`));
  if (status.drifted.length) {
    const paths = status.drifted.map((d) => displayPath(join6(ctx.folder, d.fileName), ctx.io.cwd)).join(" ");
    out.line(
      `  drifted: applied files were edited; restore them as applied (git log -p -- ${paths}) and put the change in a new file (wukong-migrate create <name>); --allow-drift migrates anyway`
    );
  }
  if (status.missing.length) {
    out.line(
      `  missing: restore the files, or point --dir at the folder this database was migrated from; --allow-drift migrates anyway`
    );
  }
  if (status.renamed.length)
    out.line(`  renamed: applied files keep the name they were applied under; rename them back`);
  if (status.outOfOrder.length)
    out.line(`  late: renumber them above ${status.currentVersion} (wukong-migrate create <name>, then move the SQL)`);
  else if (status.pending.length)
    out.line(`  pending: wukong-migrate migrate applies them (wukong-migrate plan shows their SQL)`);
  if (status.refusal) out.line(`  migrate would refuse: ${status.refusal.code}`);
  if (!problems.length && unfinished.length)
    out.line(`  wukong-migrate migrate completes it without running any file's SQL`);
}
function appliedRow(a, drifted, c) {
  const iso = a.appliedAt?.toISOString();
  const when = iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : "date unknown";
  const took = a.executionMs !== null ? `, ${formatDuration(a.executionMs)}` : "";
  if (drifted)
    return {
      label: "DRIFTED",
      colour: (t) => c.red(c.bold(t)),
      note: `applied ${when}; the file was edited since (checksum differs)`
    };
  if (a.checksumMatches === null)
    return { label: "applied", colour: c.cyan, note: `${when}, by the old runner (migrate adopts it: no SQL runs)` };
  const notes = [
    a.adopted ? "adopted from the old runner" : "",
    a.atomic ? "" : "not atomic",
    a.recordedByKysely ? "" : "migrate completes its bookkeeping"
  ].filter(Boolean);
  return {
    label: a.adopted ? "adopted" : "applied",
    colour: a.adopted ? c.cyan : c.green,
    note: `${when}${took}${notes.length ? ` (${notes.join("; ")})` : ""}`
  };
}
var init_status = __esm({
  "src/cli/commands/status.ts"() {
    "use strict";
    init_command_context();
    init_exit_codes();
    init_format();
    init_run_printer();
  }
});

// src/cli/describe-error.ts
import { readFileSync as readFileSync9 } from "node:fs";
import { isAbsolute as isAbsolute2, join as join7 } from "node:path";
function describeError(error, context) {
  if (error instanceof UsageError)
    return blank("USAGE", error.message, "wukong-migrate --help lists the commands and flags");
  if (error instanceof CliError)
    return { ...blank(error.code, error.message, error.advice ?? null), file: error.file ?? null };
  if (errorCode(error) === "ERR_INVALID_URL" && context.target) {
    const { source } = context.target;
    return blank(
      "CONNECTION_FAILED",
      `cannot connect to the database from ${source}: not a valid URL`,
      `write it as postgres://user:password@host:port/database (percent-encode @ : / in the password); ${urlFix(source)}`
    );
  }
  if (!(error instanceof MigrationError)) {
    return blank(
      "UNEXPECTED",
      error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      "this is likely a bug in wukong-migrate; please report it with the command and this message"
    );
  }
  const failed = error instanceof MigrationRunError ? error.results.find((r) => r.status === "failed") : void 0;
  const inner = error instanceof MigrationRunError ? error.cause : error;
  const file = inner.file ?? null;
  const line = inner.line ?? null;
  const column = inner.column ?? null;
  if (inner.code === "CONNECTION_FAILED" && context.target && !(inner instanceof MigrationSqlError)) {
    const reason = inner.cause instanceof Error && inner.cause.message ? inner.cause.message : inner.reason;
    const { source, url, dataDir } = context.target;
    const message = source === "embedded" ? `cannot open the embedded database in ${dataDir}: ${reason}` : connectionFailedReason({ where: source, url, reason, lost: false });
    return { ...blank("CONNECTION_FAILED", message, connectionAdvice(inner.cause, source)), file: null };
  }
  const sql15 = inner instanceof MigrationSqlError ? inner : void 0;
  const server = sql15?.server ?? {};
  return {
    code: inner.code,
    message: inner.reason,
    file,
    line,
    column,
    sourceLine: sql15?.sourceLine ?? (file !== null && line !== null ? readLine(context.folder, file, line) : null),
    sqlState: inner.sqlState ?? null,
    detail: server.detail ?? null,
    hint: server.hint ?? null,
    where: server.where ?? null,
    advice: advice(inner, failed?.atomic ?? true)
  };
}
function blank(code2, message, advice2) {
  return { code: code2, message, ...NOT_KNOWN, advice: advice2 };
}
function readLine(folder, file, line) {
  try {
    const path = isAbsolute2(file) || folder === null ? file : join7(folder, file);
    const text = readFileSync9(path, "utf8").replace(/^\uFEFF/, "");
    return text.split(/\r\n|\r|\n/)[line - 1] ?? null;
  } catch {
    return null;
  }
}
function urlFix(source) {
  return source === "--url" ? "check the URL given to --url" : `check ${source}, or pass --url`;
}
function connectionAdvice(cause, source) {
  const fix = source === "embedded" ? "check WUKONG_PGLITE_DIR, or set POSTGRES_URL_NON_POOLING to use a server" : urlFix(source);
  const why = CONNECTION_ADVICE[connectionFailureKind(cause) ?? ""];
  return why ? `${why} ${fix}` : fix;
}
function advice(error, atomic) {
  const { code: code2, file, line } = error;
  const named = file ?? "the file";
  switch (code2) {
    case "MIGRATION_FAILED":
    case "PERMISSION_DENIED":
    case "MISSING_EXTENSION":
    case "STATEMENT_TIMEOUT":
    case "LOCK_TIMEOUT": {
      const outcome = atomic ? `nothing of ${named} was applied (its statements and its schema_versions row roll back together)` : `${named} is not atomic (-- wukong:no-transaction): statements before ${line ? `line ${line}` : "the failing one"} may have run, so keep them idempotent (IF NOT EXISTS)`;
      const cure = code2 === "LOCK_TIMEOUT" ? "another session held a lock this file needs; run again when the table is quiet, or raise --lock-timeout" : code2 === "STATEMENT_TIMEOUT" ? "a statement ran longer than --statement-timeout; raise it for this run" : code2 === "PERMISSION_DENIED" ? "migrate as a role that owns the schema" : code2 === "MISSING_EXTENSION" ? "install the extension on the server (pgvector: apt install postgresql-15-pgvector, or your provider's setting)" : "fix the file and run migrate again";
      return `${outcome}; ${cure}`;
    }
    case "CONNECTION_FAILED":
      return file === void 0 ? null : `the connection was lost while ${named} ran; ${atomic ? `nothing of ${named} was applied (its statements and its schema_versions row roll back together)` : `${named} is not atomic: statements before the failing one may have run`}; files listed as applied are committed; run migrate again once the database is reachable`;
    case "INTERRUPTED":
      return file === void 0 ? `files listed as applied are committed; ${error instanceof StillRunningError ? `a statement that ignores the cancel runs on: wait for it (pg_stat_activity shows it) or end it with pg_terminate_backend(${error.backendPid ?? "pid"}), then run` : "run"} the command again to continue` : `${atomic ? `nothing of ${named} was applied` : `${named} is not atomic: its statements before ${line ? `line ${line}` : "the canceled one"} committed, so keep them idempotent (IF NOT EXISTS)`}; files listed as applied are committed; run migrate again to continue`;
    case "OUT_OF_ORDER":
      return `renumber ${named} above the last applied version (wukong-migrate create <name> gives the next number; move the SQL there), or revert the later files with down --to`;
    case "READ_ONLY_DATABASE":
      return "the database refuses writes (a read replica or standby, or default_transaction_read_only = on): point --url or POSTGRES_URL_NON_POOLING at the primary";
    case "INVALID_INDEX":
      return "a concurrent index build did not finish; run the repair SQL in the message (or just migrate again: an invalid index of the same name is dropped and rebuilt first)";
    case "UNSUPPORTED_STATEMENT":
      return "nothing ran: every file is checked before any database is touched";
    case "BOOKKEEPING_FAILED":
      return `${named} is applied and will not run again; run migrate again: it recreates Kysely's tables if they are gone and records the applied files there without running them`;
    case "LEDGER_WRITE":
      return "nothing ran: the ledgers are the migration tool's; to record or forget a version, migrate or down it";
    case "MIGRATION_LOCK_RELEASE":
      return "nothing ran: a migration file must not release advisory locks; delete the statement";
    case "LIMIT_OVERRIDE":
      return 'nothing ran: set the limits for the whole run with --lock-timeout / --statement-timeout, or let the file set its own with "-- wukong:own-timeouts" at its top';
    case "CHECKSUM_MISMATCH":
      return "applied files are immutable: restore the file as it was applied (git log -p -- <file>) and put the change in a new file (wukong-migrate create <name>); --allow-drift migrates anyway";
    case "MISSING_MIGRATION_FILE":
      return "restore the file from version control, or point --dir at the folder this database was migrated from; --allow-drift migrates anyway";
    case "NO_DATABASE_URL":
      return "set DATABASE_URL (or POSTGRES_URL_NON_POOLING) in the environment or in .env, or pass --url; --embedded uses the embedded database on purpose";
    case "ADOPTION_MISMATCH":
      return `nothing was counted as applied for ${named}: wukong-migrate diff shows what the database has; create what is missing by hand (or restore it), or give the folder this database was really migrated from`;
    case "SHADOW_NOT_EMPTY":
      return "give --shadow-url an empty database made for this (everything in it is dropped afterwards)";
    case "SHADOW_FAILED":
      return "give an empty database to build the expected schema in with --shadow-url";
    case "FOLDER_NOT_FOUND":
      return "pass --dir <folder> with the migration files";
    case "EMPTY_MIGRATION":
      return "write the migration's SQL in the file (a file from `create` holds only comments until you do)";
    case "EMBEDDED_DATABASE_BUSY":
      return "the embedded database (PGlite) serves one process at a time: stop the other process or wait for it, raise --busy-timeout (WUKONG_PGLITE_BUSY_TIMEOUT_MS) to wait longer, or use a server (POSTGRES_URL_NON_POOLING)";
    case "SQL_SYNTAX_ERROR":
      return "nothing ran: every file is parsed before any database is touched";
    default:
      return null;
  }
}
var UsageError, CliError, NOT_KNOWN, CONNECTION_ADVICE;
var init_describe_error = __esm({
  "src/cli/describe-error.ts"() {
    "use strict";
    init_errors();
    init_migration_error();
    init_migration_sql_error();
    init_migration_run_error();
    init_still_running_error();
    UsageError = class extends Error {
      name = "UsageError";
      code = "USAGE";
    };
    CliError = class extends Error {
      name = "CliError";
      code;
      file;
      advice;
      constructor(code2, message, options = {}) {
        super(message);
        this.code = code2;
        this.file = options.file;
        this.advice = options.advice;
      }
    };
    NOT_KNOWN = {
      file: null,
      line: null,
      column: null,
      sourceLine: null,
      sqlState: null,
      detail: null,
      hint: null,
      where: null
    };
    CONNECTION_ADVICE = {
      credentials: "the server refused the user or password;",
      refused: "nothing accepts connections at that host and port: is the server running?",
      "unknown-host": "the host name does not resolve;",
      "no-database": "the server has no such database: create it, or",
      "no-role": "the server has no such login role;",
      timeout: "the server did not answer in time: is the host reachable from here?"
    };
  }
});

// src/cli/commands/down.ts
var down_exports = {};
__export(down_exports, {
  downCommand: () => downCommand
});
function downCommand(ctx) {
  const to = ctx.args.to;
  return runCommand(ctx, "down", async (runner) => {
    const { currentVersion, applied } = await runner.status();
    const current = currentVersion ?? 0;
    if (to !== void 0 && to > current) {
      throw new CliError(
        "TARGET_ABOVE_CURRENT",
        `down --to ${to}: ${versionPhrase(currentVersion)}, so this would apply migrations, not revert them`,
        { advice: "use wukong-migrate migrate to go up" }
      );
    }
    if (applied.length === 0 || to !== void 0 && to !== 0 && !applied.some((a) => a.version > to))
      return `Nothing to revert; ${versionPhrase(currentVersion)}.`;
    return runner.down(to === void 0 ? {} : { to });
  });
}
var init_down = __esm({
  "src/cli/commands/down.ts"() {
    "use strict";
    init_describe_error();
    init_migrate();
    init_run_printer();
  }
});

// src/provider/index.ts
var init_provider = __esm({
  "src/provider/index.ts"() {
    "use strict";
    init_errors();
    init_parse_migration_sql();
    init_read_migration_folder();
  }
});

// src/cli/new-migration-file.ts
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join as join8 } from "node:path";
function migrationSlug(raw) {
  let slug = raw.normalize("NFKD").replace(new RegExp("\\p{M}", "gu"), "").replace(/ß/g, "ss").trim().replace(/(\.down)?\.sql$/i, "").replace(/^\d{3,}_/, "").toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  if (slug.length > 60) slug = /^(.{1,60})(?:_|$)/.exec(slug.slice(0, 61))?.[1] ?? slug.slice(0, 60);
  if (!slug)
    throw new UsageError(`"${raw}" has no letters or digits to name a migration with, e.g. create add_session_tags`);
  return slug;
}
async function createMigrationFile(folder, rawName) {
  const slug = migrationSlug(rawName);
  await mkdir(folder, { recursive: true });
  const names = await readdir(folder);
  const existing = names.map((f) => ({ f, m: MIGRATION_FILE_PATTERN.exec(f) })).filter((e) => e.m !== null);
  const twin = existing.find((e) => e.m[2] === slug && !e.m[3]) ?? existing.find((e) => e.m[2] === slug);
  if (twin) {
    throw new CliError("NAME_EXISTS", `${twin.f} already uses the name "${slug}"`, {
      file: twin.f,
      advice: "names say what a migration does, once: pick a more specific name, or change that file if it is not applied anywhere yet"
    });
  }
  const versions = existing.map((e) => Number(e.m[1]));
  const width = versionWidth(names);
  const version = versions.length ? Math.max(...versions) + 1 : 1;
  if (String(version).length > width) {
    throw new CliError(
      "MIXED_VERSION_WIDTH",
      `version ${version} needs ${String(version).length} digits but the folder's files use ${width}`,
      {
        advice: "every file must have the same number of digits; this needs a renumbering by hand (and in every database's kysely_migration)"
      }
    );
  }
  const name = `${String(version).padStart(width, "0")}_${slug}`;
  const fileName = `${name}.sql`;
  const path = join8(folder, fileName);
  try {
    await writeFile(path, migrationTemplate(fileName), { flag: "wx" });
  } catch (error) {
    if (error.code === "EEXIST")
      throw new CliError("NAME_EXISTS", `${fileName} already exists`, { file: fileName });
    throw error;
  }
  return Object.freeze({ version, name, fileName, path });
}
function migrationTemplate(fileName) {
  const down = fileName.replace(/\.sql$/, ".down.sql");
  return `-- ${fileName}
--
-- Write the change below in plain PostgreSQL. The whole file runs in ONE transaction
-- together with its row in schema_versions: all of it applies, or none of it.
--
-- * No BEGIN/COMMIT: the runner supplies the transaction and rejects transaction control.
-- * Once this file is applied anywhere, never edit it: its checksum is recorded and
--   migrate refuses edited files. Put further changes in a new file
--   (wukong-migrate create <name>).
-- * CREATE INDEX CONCURRENTLY and other statements that cannot run in a transaction need
--   "${NO_TRANSACTION_DIRECTIVE}" as the file's very first line; such a file is not atomic,
--   so keep it to those statements and make them idempotent (IF NOT EXISTS).
-- * SET/set_config last only for this file. lock_timeout and statement_timeout come from
--   the run (--lock-timeout, --statement-timeout); to set them here, add the line
--   "${OWN_TIMEOUTS_DIRECTIVE}" at the very top of the file.
-- * Optional: ${down} undoes this file for \`wukong-migrate down\`.
-- * Check it offline with \`wukong-migrate verify\`; see what would run with \`wukong-migrate plan\`.
--
-- Until a statement is written below, verify and migrate reject this file as empty.

`;
}
var init_new_migration_file = __esm({
  "src/cli/new-migration-file.ts"() {
    "use strict";
    init_provider();
    init_describe_error();
  }
});

// src/cli/commands/create.ts
var create_exports = {};
__export(create_exports, {
  createCommand: () => createCommand
});
import { sep as sep2 } from "node:path";
async function createCommand(ctx) {
  try {
    if (!ctx.args.dir && !ctx.io.env["WUKONG_MIGRATIONS_DIR"] && ctx.folder.includes(`${sep2}node_modules${sep2}`)) {
      throw new CliError("NO_FOLDER", `the default migration folder ${ctx.folder} is inside node_modules`, {
        advice: "pass --dir <your migrations folder>"
      });
    }
    const file = await createMigrationFile(ctx.folder, ctx.args.name);
    const shown = displayPath(file.path, ctx.io.cwd);
    ctx.out.line(`${ctx.out.out.green("Created")} ${shown}`);
    ctx.out.line(
      ctx.out.out.dim(
        `Write its SQL, then: wukong-migrate verify${ctx.args.dir ? ` --dir ${displayPath(ctx.folder, ctx.io.cwd)}` : ""} (offline) and plan (what would run).`
      )
    );
    return {
      exitCode: EXIT.OK,
      fields: { file: { version: file.version, name: file.name, fileName: file.fileName, path: file.path } }
    };
  } catch (error) {
    return { exitCode: EXIT.FAILED, fields: { file: null }, error };
  }
}
var init_create = __esm({
  "src/cli/commands/create.ts"() {
    "use strict";
    init_describe_error();
    init_exit_codes();
    init_format();
    init_new_migration_file();
  }
});

// src/lint/lint-rules.ts
var LOCK_LEVELS, LATER, GONE, NO_TX, TABLE, LINT_RULES;
var init_lint_rules = __esm({
  "src/lint/lint-rules.ts"() {
    "use strict";
    LOCK_LEVELS = [
      "ACCESS SHARE",
      "ROW SHARE",
      "ROW EXCLUSIVE",
      "SHARE UPDATE EXCLUSIVE",
      "SHARE",
      "SHARE ROW EXCLUSIVE",
      "EXCLUSIVE",
      "ACCESS EXCLUSIVE"
    ];
    LATER = "VALIDATE CONSTRAINT in a later file (SHARE UPDATE EXCLUSIVE: reads and writes go on)";
    GONE = "in a later release, once no running code uses it";
    NO_TX = "in a file whose first line is `-- wukong:no-transaction`";
    TABLE = {
      "index-not-concurrent": [
        "error",
        "SHARE",
        "scan",
        "builds an index without CONCURRENTLY: INSERT, UPDATE and DELETE wait until the whole table is read",
        `CREATE [UNIQUE] INDEX CONCURRENTLY ${NO_TX}; for a key, then ADD CONSTRAINT \u2026 USING INDEX`
      ],
      "drop-index-not-concurrent": [
        "warning",
        "ACCESS EXCLUSIVE",
        "none",
        "DROP INDEX without CONCURRENTLY queues behind running queries, and every new query queues behind it",
        `DROP INDEX CONCURRENTLY ${NO_TX}`
      ],
      "fk-not-valid": [
        "error",
        "SHARE ROW EXCLUSIVE",
        "scan",
        "adds a foreign key and checks every row at once: writes to both tables wait for the check",
        `ADD CONSTRAINT \u2026 FOREIGN KEY \u2026 NOT VALID here; ${LATER}`
      ],
      "check-not-valid": [
        "error",
        "ACCESS EXCLUSIVE",
        "scan",
        "adds a CHECK constraint and checks every row at once: reads and writes wait for the check",
        `ADD CONSTRAINT \u2026 CHECK (\u2026) NOT VALID here; ${LATER}`
      ],
      "set-not-null": [
        "error",
        "ACCESS EXCLUSIVE",
        "scan",
        "SET NOT NULL reads every row to prove it, while reads and writes wait",
        `ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; ${LATER}; then SET NOT NULL (no scan)`
      ],
      "column-type-rewrite": [
        "error",
        "ACCESS EXCLUSIVE",
        "rewrite",
        "changes a type without binary compatibility: the table and its indexes are rewritten, reads and writes wait",
        "add a column of the new type, backfill it in batches (varchar(n) \u2192 varchar(m \u2265 n), varchar or text is free)"
      ],
      "volatile-default": [
        "error",
        "ACCESS EXCLUSIVE",
        "rewrite",
        "adds a column computed per row (volatile default, serial, identity, generated): the table is rewritten",
        "ADD COLUMN without it (a constant or now() is free), then SET DEFAULT, and backfill old rows in batches"
      ],
      "rename-column": [
        "warning",
        "ACCESS EXCLUSIVE",
        "none",
        "renames a column that running code may still use by its old name",
        `add the new column, write both, backfill, move the readers; drop the old one ${GONE}`
      ],
      "rename-table": [
        "warning",
        "ACCESS EXCLUSIVE",
        "none",
        "renames a table that running code may still use by its old name",
        `rename it and CREATE VIEW <old name> AS SELECT * FROM <new name>; drop the view ${GONE}`
      ],
      "drop-column": [
        "warning",
        "ACCESS EXCLUSIVE",
        "none",
        "drops a column that running code may still read or write",
        `deploy code that no longer uses the column first; drop it ${GONE}`
      ],
      "drop-table": [
        "warning",
        "ACCESS EXCLUSIVE",
        "none",
        "drops a table that running code may still use",
        `deploy code that no longer uses the table first; drop it ${GONE}`
      ],
      "vacuum-full": [
        "error",
        "ACCESS EXCLUSIVE",
        "rewrite",
        "VACUUM FULL rewrites the table while reads and writes wait",
        "plain VACUUM (it blocks neither reads nor writes), or pg_repack"
      ],
      cluster: [
        "error",
        "ACCESS EXCLUSIVE",
        "rewrite",
        "CLUSTER rewrites the table in index order while reads and writes wait",
        "pg_repack --order-by, outside the migration"
      ],
      "lock-table": [
        "error",
        "ACCESS EXCLUSIVE",
        "none",
        "LOCK TABLE blocks writes (or everything) until the file commits",
        "leave it to each statement to take its own lock, bounded by the runner's lock_timeout"
      ],
      "backfill-with-ddl": [
        "error",
        "ROW EXCLUSIVE",
        "scan",
        "changes rows in the same transaction as DDL: the DDL's locks are held until the whole backfill commits",
        "move the backfill to a file of its own (in batches), so that the DDL commits and releases its locks first"
      ],
      "allow-without-reason": [
        "error",
        null,
        "none",
        "a `-- wukong:allow` directive must say why the statement is safe here",
        "-- wukong:allow <rule> <why it is safe here>"
      ],
      "allow-unused": [
        "warning",
        null,
        "none",
        "a `-- wukong:allow` directive acknowledges no finding of the statement below it",
        "delete it, or name the rule that the statement below it breaks"
      ]
    };
    LINT_RULES = Object.fromEntries(
      Object.entries(TABLE).map(([code2, [level, lock, effect, why, safe]]) => [code2, { level, lock, effect, why, safe }])
    );
  }
});

// src/lint/check-statement.ts
function relationKey(rangeVar) {
  const quote = (name) => `"${name.replace(/"/g, '""')}"`;
  return rangeVar.schemaname ? `${quote(rangeVar.schemaname)}.${quote(rangeVar.relname)}` : quote(rangeVar.relname);
}
function droppedNames(node) {
  return (node["objects"] ?? []).flatMap((o) => {
    const [a, b] = (o["List"]?.["items"] ?? []).map((i) => i["String"]?.["sval"]);
    return a === void 0 ? [] : [relationKey(b ? { schemaname: a, relname: b } : { relname: a })];
  });
}
function checkStatement(kind, node, created, schema) {
  const each = (rule, keys, lock) => rule ? keys.filter((k) => k === null || !created.has(k)).map((relation) => ({ rule, relation, lock })) : [];
  const table = node["relation"] ? relationKey(node["relation"]) : null;
  switch (kind) {
    case "CreateStmt":
      created.add(table);
      for (const { ColumnDef: c } of node["tableElts"] ?? [])
        if (c) schema.setWidth(table, c.colname, widthOf(c.typeName));
      return [];
    case "CreateTableAsStmt":
      created.add(relationKey(node["into"]["rel"]));
      return [];
    case "IndexStmt":
      if (node["idxname"]) created.add(relationKey({ ...node["relation"], relname: node["idxname"] }));
      return node["concurrent"] ? [] : each("index-not-concurrent", [table]);
    case "DropStmt":
      return node["concurrent"] ? [] : each(DROPS[node["removeType"]], droppedNames(node));
    case "RenameStmt":
      return table ? each(RENAMES[node["renameType"]], [table]) : [];
    case "VacuumStmt": {
      const rels = (node["rels"] ?? []).map((r) => relationKey(r["VacuumRelation"].relation));
      const full = (node["options"] ?? []).some((o) => o["DefElem"]?.defname === "full");
      return full ? each("vacuum-full", rels.length ? rels : [null]) : [];
    }
    case "ClusterStmt":
      return each("cluster", [table]);
    case "LockStmt": {
      const lock = LOCK_LEVELS[node["mode"] - 1] ?? "ACCESS EXCLUSIVE";
      const rels = (node["relations"] ?? []).map((r) => relationKey(r["RangeVar"]));
      return LOCK_LEVELS.indexOf(lock) >= LOCK_LEVELS.indexOf("SHARE") ? each("lock-table", rels, lock) : [];
    }
    case "AlterTableStmt": {
      const hits = (node["cmds"] ?? []).flatMap((c) => alterTableCmd(c["AlterTableCmd"], table, schema));
      return created.has(table) ? [] : hits;
    }
    default:
      return [];
  }
}
function alterTableCmd(cmd, table, schema) {
  const hit = (rule, detail, lock) => ({ rule, relation: table, detail, lock });
  const column = cmd["name"];
  switch (cmd["subtype"]) {
    case "AT_AddConstraint":
      return constraintHits(cmd["def"]["Constraint"], hit, schema, table);
    case "AT_AddColumn": {
      const { colname, typeName: type, constraints } = cmd["def"]["ColumnDef"];
      schema.setWidth(table, colname, widthOf(type));
      const serial = SERIAL.has(typeName(type)) ? [hit("volatile-default", `column "${colname}" is ${typeName(type)}`)] : [];
      return serial.concat(
        (constraints ?? []).flatMap((c) => constraintHits(c["Constraint"], hit, schema, table, colname))
      );
    }
    case "AT_SetNotNull":
      return schema.provenNotNull(table, column) ? [] : [hit("set-not-null", `column "${column}"`)];
    case "AT_AlterColumnType": {
      const def = cmd["def"]["ColumnDef"];
      const [from, to] = [schema.width(table, column), widthOf(def.typeName)];
      schema.setWidth(table, column, to);
      if (from != null && to != null && to >= from && !def.raw_default) return [];
      const unknown = from === void 0 ? ", from a type this run does not know" : "";
      return [hit("column-type-rewrite", `column "${column}" to ${typeName(def.typeName)}${unknown}`)];
    }
    case "AT_DropColumn":
      return [hit("drop-column", `column "${column}"`)];
    case "AT_ValidateConstraint":
      schema.validate(table, column);
      return [];
    default:
      return [];
  }
}
function constraintHits(con, hit, schema, table, column) {
  const validated = !con["skip_validation"];
  const what = con["conname"] ? `constraint "${con["conname"]}"` : `column "${column}"`;
  switch (con["contype"]) {
    case "CONSTR_FOREIGN":
      return validated ? [hit("fk-not-valid", `${what} \u2192 ${relationKey(con["pktable"])}`)] : [];
    case "CONSTR_CHECK": {
      const test = con["raw_expr"]?.["NullTest"];
      const fields = test?.nulltesttype === "IS_NOT_NULL" ? test.arg?.["ColumnRef"]?.fields : void 0;
      if (fields?.length === 1) schema.notNullCheck(table, con["conname"], fields[0]["String"].sval, validated);
      return validated ? [hit("check-not-valid", what)] : [];
    }
    case "CONSTR_PRIMARY":
    case "CONSTR_UNIQUE":
    case "CONSTR_EXCLUSION":
      return con["indexname"] ? [] : [hit("index-not-concurrent", what, "ACCESS EXCLUSIVE")];
    case "CONSTR_DEFAULT": {
      const volatile = volatileCall(con["raw_expr"]);
      return volatile ? [hit("volatile-default", `column "${column}" DEFAULT ${volatile}()`)] : [];
    }
    case "CONSTR_IDENTITY":
    case "CONSTR_GENERATED":
      return [hit("volatile-default", `column "${column}" is ${con["contype"].slice(7).toLowerCase()}`)];
    default:
      return [];
  }
}
function volatileCall(expr) {
  if (expr === null || typeof expr !== "object") return void 0;
  const name = expr["FuncCall"]?.funcname?.at(-1)?.["String"]?.sval;
  if (VOLATILE.test(name)) return name;
  for (const child of Object.values(expr)) {
    const found = volatileCall(child);
    if (found) return found;
  }
  return void 0;
}
function typeName(type) {
  return type["names"].at(-1)["String"].sval;
}
function widthOf(type) {
  const name = typeName(type);
  if (type["arrayBounds"]) return null;
  if (name === "text" || name === "varchar" && !type["typmods"]) return Number.POSITIVE_INFINITY;
  return name === "varchar" ? type["typmods"][0]?.["A_Const"]?.["ival"]?.["ival"] ?? null : null;
}
var VOLATILE, SERIAL, DROPS, RENAMES;
var init_check_statement = __esm({
  "src/lint/check-statement.ts"() {
    "use strict";
    init_lint_rules();
    VOLATILE = /^(random|random_normal|clock_timestamp|timeofday|gen_random_uuid|nextval|uuid_generate_v(1|1mc|4))$/;
    SERIAL = /* @__PURE__ */ new Set(["serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"]);
    DROPS = { OBJECT_INDEX: "drop-index-not-concurrent", OBJECT_TABLE: "drop-table" };
    RENAMES = { OBJECT_COLUMN: "rename-column", OBJECT_TABLE: "rename-table" };
  }
});

// src/lint/relation-stats.ts
import { sql as sql14 } from "kysely";
async function readRelationStats(db, names) {
  const { rows } = await sql14`
    with r as (
      select name, coalesce((select indrelid from pg_index where indexrelid = to_regclass(name)), to_regclass(name)) as rel
      from unnest(${[...new Set(names)]}::text[]) as name
    ), n as (
      select r.*, greatest(c.reltuples, s.n_live_tup, 0)::float8 as rows, coalesce(pg_relation_size(r.rel), 0) as heap,
        (coalesce(s.seq_scan, 0) + coalesce(s.idx_scan, 0))::float8 as scans
      from r left join pg_class c on c.oid = r.rel left join pg_stat_user_tables s on s.relid = r.rel
    )
    select name, json_build_object('exists', rel is not null, 'rows', rows,
        'bytes', coalesce(pg_total_relation_size(rel), 0), 'scans', scans, 'empty', rel is not null and heap = 0,
        'big', rows >= 10000 or heap >= 10 * 1024 * 1024, 'busy', scans >= 10000) as size,
      coalesce((select json_object_agg(a.attname, format_type(a.atttypid, a.atttypmod)) from pg_attribute a
        where a.attrelid = rel and a.attnum > 0 and not a.attisdropped), '{}') as columns,
      array(select a.attname::text from pg_attribute a
        where a.attrelid = rel and a.attnum > 0 and not a.attisdropped and (a.attnotnull or exists (
          select from pg_constraint k where k.conrelid = rel and k.contype = 'c' and k.convalidated
            and pg_get_constraintdef(k.oid) = format('CHECK ((%s IS NOT NULL))', quote_ident(a.attname))))) as "notNull"
    from n`.execute(db);
  return new Map(rows.map(({ name, ...stats }) => [name, stats]));
}
function catalogWidth(formatted) {
  if (formatted === void 0) return void 0;
  if (formatted === "text" || formatted === "character varying") return Number.POSITIVE_INFINITY;
  const n = /^character varying\((\d+)\)$/.exec(formatted)?.[1];
  return n ? Number(n) : null;
}
var init_relation_stats = __esm({
  "src/lint/relation-stats.ts"() {
    "use strict";
  }
});

// src/lint/schema-knowledge.ts
var SchemaKnowledge;
var init_schema_knowledge = __esm({
  "src/lint/schema-knowledge.ts"() {
    "use strict";
    init_relation_stats();
    SchemaKnowledge = class {
      #catalog;
      #widths = /* @__PURE__ */ new Map();
      #proven = /* @__PURE__ */ new Set();
      #checks = /* @__PURE__ */ new Map();
      constructor(catalog) {
        this.#catalog = catalog;
      }
      width(table, column) {
        const key = `${table}.${column}`;
        return this.#widths.has(key) ? this.#widths.get(key) : catalogWidth(this.#catalog.get(table)?.columns[column]);
      }
      setWidth(table, column, width) {
        this.#widths.set(`${table}.${column}`, width);
      }
      provenNotNull(table, column) {
        return this.#proven.has(`${table}.${column}`) || (this.#catalog.get(table)?.notNull.includes(column) ?? false);
      }
      /** Proven now when added validated, else once validated by name. */
      notNullCheck(table, name, column, validated) {
        if (validated) this.#proven.add(`${table}.${column}`);
        if (name) this.#checks.set(`${table}.${name}`, column);
      }
      validate(table, name) {
        const column = this.#checks.get(`${table}.${name}`);
        if (column) this.#proven.add(`${table}.${column}`);
      }
    };
  }
});

// src/lint/lint-migration-files.ts
import { readFileSync as readFileSync10 } from "node:fs";
import { basename as basename2 } from "node:path";
async function lintMigrationFiles(files, options = {}) {
  const { parseSync } = await loadSqlParser();
  const parsed = await Promise.all(
    files.map(async (file) => {
      const name = basename2(file);
      const text = decodeSqlFile(readFileSync10(file), name);
      const version = Number(/^\d+/.exec(name)?.[0] ?? 0);
      const sql15 = await parseMigrationSql(text, name, version, name.endsWith(".down.sql") ? "down" : "up");
      const statements = sql15.statements.map((s) => {
        const [kind, node] = Object.entries(parseSync(s.text).stmts[0].stmt)[0];
        return { ...s, kind, node, names: [...s.relations, ...kind === "DropStmt" ? droppedNames(node) : []] };
      });
      return { file, text, transactional: sql15.transactional, statements };
    })
  );
  const names = parsed.flatMap((p) => p.statements.flatMap((s) => s.names));
  const catalog = options.db ? await readRelationStats(options.db, names) : /* @__PURE__ */ new Map();
  const schema = new SchemaKnowledge(catalog);
  const findings = parsed.flatMap((p) => {
    const created = /* @__PURE__ */ new Set();
    const hits = p.statements.map((s) => checkStatement(s.kind, s.node, created, schema));
    const ddl = p.statements.some((s) => !DML.has(s.kind) && s.names.some((n) => !created.has(n)));
    p.statements.forEach((s, i) => {
      const target = p.transactional && ddl ? backfillTarget(s.kind, s.node) : void 0;
      if (target && !created.has(target)) hits[i].push({ rule: "backfill-with-ddl", relation: target });
    });
    const at = lineColumnFinder(p.text);
    return p.statements.flatMap((s, i) => {
      const gap = i === 0 ? 0 : p.statements[i - 1].start + p.statements[i - 1].text.length;
      const allowed = /* @__PURE__ */ new Map();
      const directives = [];
      for (const m of p.text.slice(gap, s.start).matchAll(ALLOW)) {
        const [rule, reason] = [m[1], m[2].trim()];
        const problem = !reason ? "allow-without-reason" : hits[i].some((h) => h.rule === rule) ? null : "allow-unused";
        if (!problem) allowed.set(rule, reason);
        else directives.push(finding(p.file, at(gap + m.index), { rule: problem, relation: null, detail: m[0] }, null));
      }
      const size = (h) => (h.relation && catalog.get(h.relation)?.size) ?? null;
      return [...directives, ...hits[i].map((h) => finding(p.file, s, h, size(h), allowed.get(h.rule)))];
    });
  });
  const weight = (f) => LEVELS.indexOf(f.level) * 1e15 + (f.size?.rows ?? 0);
  if (options.db) findings.sort((a, b) => weight(b) - weight(a));
  const open2 = findings.filter((f) => f.allowed === null);
  const errors = open2.filter((f) => f.level === "error").length;
  const summary2 = { errors, warnings: open2.length - errors, allowed: findings.length - open2.length };
  return { files: [...files], statements: parsed.reduce((n, p) => n + p.statements.length, 0), findings, summary: summary2 };
}
function lintFails(report, failOn) {
  return report.findings.some((f) => f.allowed === null && LEVELS.indexOf(f.level) >= LEVELS.indexOf(failOn));
}
function finding(file, at, hit, size, allowed) {
  const { level, lock, effect, why, safe } = LINT_RULES[hit.rule];
  const ranked = !size ? level : !size.exists || size.empty ? "warning" : size.big || size.busy ? "error" : level;
  const message = hit.detail ? `${why} (${hit.detail.trim()})` : why;
  return {
    rule: hit.rule,
    level: ranked,
    file,
    line: at.line,
    column: at.column,
    relation: hit.relation,
    lock: hit.lock ?? lock,
    effect,
    message,
    safe,
    allowed: allowed ?? null,
    size
  };
}
function backfillTarget(kind, node) {
  if (kind === "InsertStmt" && !node["selectStmt"]?.["SelectStmt"]?.["fromClause"]) return void 0;
  if (LEDGER_TABLES.includes(node["relation"]?.relname)) return void 0;
  return ["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"].includes(kind) ? relationKey(node["relation"]) : void 0;
}
var DML, ALLOW, LEVELS;
var init_lint_migration_files = __esm({
  "src/lint/lint-migration-files.ts"() {
    "use strict";
    init_parse_migration_sql();
    init_sql_parser();
    init_ledger();
    init_sql_text();
    init_check_statement();
    init_lint_rules();
    init_relation_stats();
    init_schema_knowledge();
    DML = /* @__PURE__ */ new Set(["SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "CopyStmt", "ExplainStmt"]);
    ALLOW = /--[ \t]*wukong[ \t]*:[ \t]*allow\b[ \t]*(\S*)[ \t]*([^\r\n]*)/gi;
    LEVELS = ["warning", "error"];
  }
});

// src/lint/render-lint-report.ts
function renderLintReport(report, options = {}) {
  const c = options.style ?? PLAIN;
  const lines = report.findings.flatMap((f) => block(f, c));
  const { errors, warnings, allowed } = report.summary;
  const counts = [
    errors && count(errors, "error"),
    warnings && count(warnings, "warning"),
    allowed && `${allowed} allowed`
  ];
  const found = counts.filter(Boolean).join(", ") || "no findings";
  const files = count(report.files.length, "file");
  return [...lines, `${c.bold(found)} in ${files} (${count(report.statements, "statement")})`].join("\n");
}
function block(f, c) {
  const level = f.allowed !== null ? c.dim("allowed") : f.level === "error" ? c.red("error") : c.yellow("warning");
  const lock = f.lock ? `${f.lock} lock${f.effect === "none" ? "" : `, ${f.effect === "rewrite" ? "rewrites" : "scans"} the table`}` : "";
  const facts = [f.relation, lock, f.size && sizeText(f.size)].filter(Boolean).join(" \xB7 ");
  return [
    `${f.file}:${f.line}:${f.column}  ${level}  ${c.bold(f.rule)}${facts ? `  ${facts}` : ""}`,
    `  ${f.message}`,
    f.allowed !== null ? `  ${c.dim(`allowed: ${f.allowed}`)}` : `  safe: ${f.safe}`
  ];
}
function sizeText(size) {
  if (!size.exists) return "new";
  if (size.empty) return "empty";
  const mb = size.bytes / (1024 * 1024);
  const tags = [size.big ? "big" : "", size.busy ? "busy" : ""].filter(Boolean).join(", ");
  return `~${Math.round(size.rows).toLocaleString("en-US")} rows, ${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB, ${count(size.scans, "scan")}${tags ? ` (${tags})` : ""}`;
}
function count(n, what) {
  return `${n.toLocaleString("en-US")} ${what}${n === 1 ? "" : "s"}`;
}
var PLAIN;
var init_render_lint_report = __esm({
  "src/lint/render-lint-report.ts"() {
    "use strict";
    PLAIN = { bold: String, dim: String, red: String, yellow: String };
  }
});

// src/lint/index.ts
var init_lint = __esm({
  "src/lint/index.ts"() {
    "use strict";
    init_lint_migration_files();
    init_render_lint_report();
  }
});

// src/cli/verify-folder.ts
import { basename as basename3 } from "node:path";
async function verifyMigrationFolder(folder) {
  const problems = [];
  const report = (error) => void problems.push(error);
  let files = [];
  try {
    files = await parseMigrationFiles(scanMigrationFolder(folder, { report }), { report });
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error;
    problems.push(error);
  }
  const errors = problems.sort((x, y) => (x.file ?? "").localeCompare(y.file ?? ""));
  if (errors.length) return Object.freeze({ files: [], errors, warnings: [] });
  const warnings = [];
  if (files.length === 0) {
    warnings.push({ code: "NO_MIGRATIONS", message: `${folder} has no migration files`, file: null, line: null });
  }
  for (let i = 1; i < files.length; i++) {
    const [a, b] = [files[i - 1], files[i]];
    if (b.version !== a.version + 1) {
      const missing = b.version - a.version === 2 ? `version ${a.version + 1} is` : `versions ${a.version + 1}\u2013${b.version - 1} are`;
      warnings.push({
        code: "VERSION_GAP",
        message: `${missing} not used between ${a.fileName} and ${b.fileName} (allowed, but usually a file that was renamed or not committed)`,
        file: b.fileName,
        line: null
      });
    }
  }
  for (const part of files.flatMap((f) => f.down ? [f, f.down] : [f])) {
    const top = directiveLineCount(part.text);
    part.text.split(LINE_BREAK).forEach((text, index) => {
      if (index >= top && DIRECTIVE_LINE.test(text)) {
        warnings.push({
          code: "IGNORED_DIRECTIVE",
          message: `"${text.trim()}" on line ${index + 1} is ignored: directives count only at the very top of the file, before any other line`,
          file: part.fileName,
          line: index + 1
        });
      }
    });
  }
  return Object.freeze({ files, errors, warnings });
}
async function lintWarnings(paths) {
  const { findings } = await lintMigrationFiles(paths);
  return findings.filter((f) => f.allowed === null).map((f) => ({ code: f.rule, message: `${f.message}; safe: ${f.safe}`, file: basename3(f.file), line: f.line }));
}
function printWarnings(out, warnings) {
  for (const w of warnings) {
    const at = w.file ? `${w.file}${w.line ? `:${w.line}` : ""}: ` : "";
    out.error(`${out.err.yellow(out.err.bold(`warning[${w.code}]`))}: ${at}${w.message}`);
  }
}
var init_verify_folder = __esm({
  "src/cli/verify-folder.ts"() {
    "use strict";
    init_lint();
    init_provider();
    init_parse_migration_sql();
    init_sql_text();
  }
});

// src/cli/commands/plan.ts
var plan_exports = {};
__export(plan_exports, {
  planCommand: () => planCommand
});
async function planCommand(ctx) {
  let files;
  let status;
  try {
    ;
    [files, status] = await withRunner(
      ctx,
      {},
      async (runner) => [await runner.verify(), await runner.status()]
    );
  } catch (error) {
    const fields2 = { currentVersion: null, pending: [], bookkeeping: [], drifted: [], missing: [], warnings: [] };
    return { exitCode: EXIT.FAILED, fields: fields2, error };
  }
  const plan = planFields(files, status);
  const warnings = await lintWarnings(
    files.filter((f) => plan.pending.some((p) => p.version === f.version)).map((f) => f.path)
  );
  const fields = { ...plan, warnings };
  const refusal = status.refusal;
  if (!ctx.out.json) {
    print2(ctx, plan, refusal !== void 0);
    printWarnings(ctx.out, warnings);
  }
  return { exitCode: refusal === void 0 ? EXIT.OK : EXIT.FAILED, fields, error: refusal };
}
function planFields(files, status) {
  const pending = status.pending.map((p) => {
    const file = files.find((f) => f.version === p.version);
    const statements = file.sql.statements.map(({ line, column, kind, text }) => ({ line, column, kind, text }));
    return { version: p.version, name: p.name, fileName: p.fileName, atomic: p.atomic, statements };
  });
  const bookkeeping = status.applied.filter((a) => a.checksumMatches === null || !a.recordedByKysely).map((a) => ({
    version: a.version,
    fileName: a.fileName,
    action: a.checksumMatches === null ? "adopt" : "heal"
  }));
  const { currentVersion, drifted, missing } = status;
  return { currentVersion, pending, bookkeeping, drifted, missing };
}
function print2(ctx, plan, refused) {
  const { out } = ctx;
  const c = out.out;
  printHeader(ctx);
  out.line();
  if (refused)
    out.line(c.red("migrate would refuse to run (see the error below); were it allowed (--allow-drift), it would:"));
  if (plan.pending.length === 0 && plan.bookkeeping.length === 0) {
    out.line(c.green(`Nothing to do; ${versionPhrase(plan.currentVersion)}.`));
    return;
  }
  if (plan.pending.length) {
    const last = plan.pending.at(-1).version;
    out.line(
      `migrate would apply ${plural(plan.pending.length, "file")}, from ${plan.currentVersion === null ? "nothing applied" : `version ${plan.currentVersion}`} to version ${last}:`
    );
  }
  for (const file of plan.pending) {
    out.line();
    out.line(
      `${c.bold(file.fileName)}  ${c.dim(`${plural(file.statements.length, "statement")}, ${file.atomic ? "one transaction" : "not atomic: each statement on its own (-- wukong:no-transaction)"}`)}`
    );
    const lastLine = Math.max(...file.statements.map((s) => s.line + s.text.split("\n").length - 1));
    const gutter = String(lastLine).length;
    for (const statement of file.statements) {
      statement.text.split("\n").forEach((text, i) => {
        const number = String(statement.line + i).padStart(gutter);
        out.line(`  ${c.cyan(`${number} |`)} ${i === 0 ? " ".repeat(statement.column - 1) : ""}${text}`);
      });
    }
  }
  if (plan.bookkeeping.length) {
    out.line();
    out.line(
      `and complete the bookkeeping of ${plural(plan.bookkeeping.length, "applied file")}, running none of their SQL:`
    );
    for (const b of plan.bookkeeping)
      out.line(
        `  ${b.action === "adopt" ? "adopt" : "heal "}  ${b.fileName}${c.dim(b.action === "adopt" ? "  (applied by the old runner)" : "  (missing from kysely_migration)")}`
      );
  }
}
var init_plan = __esm({
  "src/cli/commands/plan.ts"() {
    "use strict";
    init_command_context();
    init_exit_codes();
    init_format();
    init_run_printer();
    init_verify_folder();
  }
});

// src/cli/render-error.ts
import { isAbsolute as isAbsolute3, join as join9 } from "node:path";
function renderError(info, c, context) {
  const lines = [`${c.red(c.bold(`error[${info.code}]`))}${c.bold(`: ${info.message}`)}`];
  const gutter = " ".repeat(Math.max(1, String(info.line ?? "").length));
  const bar = c.cyan(`${gutter} |`);
  if (info.file !== null) {
    const path = displayPath(
      isAbsolute3(info.file) || context.folder === null ? info.file : join9(context.folder, info.file),
      context.cwd
    );
    const at = info.line !== null ? `:${info.line}${info.column !== null ? `:${info.column}` : ""}` : "";
    lines.push(`${gutter}${c.cyan("-->")} ${path}${at}`);
  }
  const snippet = info.line !== null && info.sourceLine !== null;
  if (snippet) {
    const { text, caretAt } = windowed(info.sourceLine, info.column);
    lines.push(bar, `${c.cyan(`${info.line} |`)} ${text}`);
    if (caretAt !== null) lines.push(`${bar} ${caretAt}${c.red(c.bold("^"))}`);
  }
  const notes = [
    ["sqlstate", info.sqlState],
    ["detail", info.detail],
    ["hint", info.hint],
    ["context", info.where],
    ["help", info.advice]
  ];
  const present = notes.filter((n) => n[1] !== null && n[1] !== "");
  if (present.length && snippet) lines.push(bar);
  for (const [label, value] of present) {
    const [first, ...rest] = value.split("\n");
    lines.push(`${gutter} ${c.cyan("=")} ${c.bold(`${label}:`)} ${first}`);
    for (const more of rest) lines.push(`${gutter}   ${" ".repeat(label.length + 2)}${more}`);
  }
  return lines;
}
function windowed(line, column) {
  const index = column === null ? null : Math.max(0, column - 1);
  let start = 0;
  if (line.length > WINDOW && index !== null && index > WINDOW / 2)
    start = Math.min(index - WINDOW / 2, line.length - WINDOW);
  const head = start > 0 ? "\u2026" : "";
  const tail = start + WINDOW < line.length ? "\u2026" : "";
  const text = head + line.slice(start, start + WINDOW) + tail;
  if (index === null) return { text, caretAt: null };
  const before = head + line.slice(start, index);
  return { text, caretAt: before.replace(/[^\t]/g, " ") };
}
var WINDOW;
var init_render_error = __esm({
  "src/cli/render-error.ts"() {
    "use strict";
    init_format();
    WINDOW = 120;
  }
});

// src/schema-diff/index.ts
var init_schema_diff = __esm({
  "src/schema-diff/index.ts"() {
    "use strict";
    init_compare_schema_catalogs();
  }
});

// src/cli/diff-printer.ts
function differenceLines(differences, c, indent = "") {
  const lines = [];
  let group;
  for (const d of differences) {
    const g = groupOf(d);
    if (g !== group) {
      if (group !== void 0) lines.push("");
      group = g;
      lines.push(`${indent}${c.bold(g)}`);
    }
    const [sign, colour] = d.change === "added" ? ["+", c.green] : d.change === "dropped" ? ["-", c.red] : ["~", c.yellow];
    const self2 = !d.table && `${d.kind} ${d.schema ? `${d.schema}.` : ""}${d.name}` === g;
    const label = self2 ? d.kind : `${d.kind} ${d.name}`;
    if (d.change !== "changed") {
      const facts = summary(d.kind, d.actual ?? d.expected);
      lines.push(`${indent}  ${colour(`${sign} ${label}`)}${facts ? `  ${c.dim(facts)}` : ""}`);
      continue;
    }
    const short = d.fields.filter((f) => !isLong(f.expected) && !isLong(f.actual));
    const inline = short.map((f) => `${f.field}: ${show(f.expected)} \u2192 ${show(f.actual)}`).join("; ");
    lines.push(`${indent}  ${colour(`${sign} ${label}`)}${inline ? `  ${inline}` : ""}`);
    for (const f of d.fields.filter((x) => !short.includes(x))) {
      lines.push(`${indent}      ${f.field}:`);
      for (const [mark, text] of lineChanges(String(f.expected ?? ""), String(f.actual ?? ""))) {
        lines.push(`${indent}      ${mark === "-" ? c.red(`- ${text}`) : c.green(`+ ${text}`)}`);
      }
    }
  }
  return lines;
}
function differenceTally(differences) {
  const count2 = (change) => differences.filter((d) => d.change === change).length;
  const parts = ["added", "dropped", "changed"].filter((k) => count2(k)).map((k) => `${count2(k)} ${k}`);
  return `${plural(differences.length, "difference")}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}
function summary(kind, facts) {
  switch (kind) {
    case "column":
      return [
        facts["type"],
        facts["notNull"] ? "not null" : "",
        facts["default"] ? `default ${facts["default"]}` : "",
        facts["identity"] ? `identity ${facts["identity"]}` : ""
      ].filter(Boolean).join(" ");
    case "index":
      return `${facts["definition"]}${facts["valid"] === false ? " (INVALID)" : ""}`;
    case "constraint":
    case "trigger":
      return String(facts["definition"] ?? "");
    case "function":
    case "procedure":
      return String(facts["definition"] ?? "").split("\n")[0];
    case "enum":
      return `(${facts["values"]?.join(", ") ?? ""})`;
    case "extension":
      return `version ${facts["version"]}`;
    case "sequence":
    case "domain":
      return String(facts["type"] ?? "");
    default:
      return "";
  }
}
function isLong(value) {
  return typeof value === "string" && (value.includes("\n") || value.length > 60);
}
function show(value) {
  if (value === null || value === "") return "none";
  return Array.isArray(value) ? `(${value.join(", ")})` : String(value);
}
function lineChanges(expected, actual) {
  const [e, a] = [expected.split("\n"), actual.split("\n")];
  const inA = new Set(a);
  const inE = new Set(e);
  return [
    ...e.filter((l) => !inA.has(l)).map((l) => ["-", l]),
    ...a.filter((l) => !inE.has(l)).map((l) => ["+", l])
  ];
}
var init_diff_printer = __esm({
  "src/cli/diff-printer.ts"() {
    "use strict";
    init_schema_diff();
    init_format();
  }
});

// src/cli/commands/verify-round-trip.ts
async function verifyRoundTripCommand(ctx) {
  let report;
  const shadowUrl = ctx.args.shadowUrl;
  try {
    report = await withRunner(
      ctx,
      {},
      (runner) => runner.verifyRoundTrip({ shadowUrl, requireDown: ctx.args.requireDown })
    );
  } catch (error) {
    return { exitCode: EXIT.FAILED, fields: { roundtrip: { ok: false, files: [] } }, error };
  }
  const files = report.files.map((f) => ({
    ...f,
    error: f.error === null ? null : describeError(f.error, { folder: ctx.folder, target: ctx.target })
  }));
  if (!ctx.out.json) print3(ctx, report.ok, files);
  return { exitCode: report.ok ? EXIT.OK : EXIT.FAILED, fields: { roundtrip: { ok: report.ok, files } } };
}
function print3(ctx, ok, files) {
  const { out } = ctx;
  const c = out.out;
  out.line(`${c.bold("Folder:")}  ${displayPath(ctx.folder, ctx.io.cwd)}`);
  const scratch = ctx.args.shadowUrl ? "the --shadow-url database (emptied afterwards)" : `a database created next to ${describeTarget(ctx.target)} (dropped afterwards)`;
  out.line(`${c.bold("Scratch:")} ${scratch}`);
  out.line();
  const width = Math.max(0, ...files.map((f) => f.fileName.length));
  for (const f of files) {
    const noDown = ctx.args.requireDown ? c.red("NO DOWN ") : c.yellow("no down ");
    const label = f.outcome === "proven" ? c.green("proven  ") : f.outcome === "no-down" ? noDown : c.red("FAILED  ");
    const why = f.outcome === "failed" ? ` ${f.error?.message ?? ""}` : "";
    out.line(`  ${label} ${f.fileName.padEnd(width)}  ${c.dim(NOTES[f.outcome])}${why}`);
    const differences = f.outcome === "down-differs" ? f.downDifferences : f.outcome === "up-differs" ? f.upDifferences : [];
    for (const line of differenceLines(differences, c, "      ")) out.line(line);
  }
  const count2 = (o) => files.filter((f) => f.outcome === o).length;
  const failed = files.length - count2("proven") - count2("no-down");
  const tally = `${plural(count2("proven"), "file")} proven, ${count2("no-down")} without a down file` + (failed ? `, ${failed} failed` : "");
  out.line();
  out.line(ok ? c.green(`Round trip passed: ${tally}.`) : c.red(`Round trip failed: ${tally}.`));
}
var NOTES;
var init_verify_round_trip2 = __esm({
  "src/cli/commands/verify-round-trip.ts"() {
    "use strict";
    init_command_context();
    init_describe_error();
    init_diff_printer();
    init_exit_codes();
    init_format();
    NOTES = {
      proven: "its down file restores the schema it found; up again rebuilds the same",
      "no-down": "no down file: not checked",
      "down-differs": "its down file does not restore the schema it found:",
      "up-differs": "after its down file, up again builds a different schema:",
      failed: "failed:"
    };
  }
});

// src/cli/commands/verify.ts
var verify_exports = {};
__export(verify_exports, {
  verifyCommand: () => verifyCommand
});
async function verifyCommand(ctx) {
  const { out, folder } = ctx;
  const c = out.out;
  const report = await verifyMigrationFolder(folder);
  if (ctx.args.roundtrip && report.errors.length === 0) return verifyRoundTripCommand(ctx);
  const errors = report.errors.map((e) => describeError(e, { folder, target: null }));
  const paths = report.files.flatMap((f) => [f.path, ...f.down ? [f.down.path] : []]);
  const warnings = [...report.warnings, ...await lintWarnings(paths)];
  const fields = {
    files: report.files.map((f) => ({
      version: f.version,
      name: f.name,
      fileName: f.fileName,
      statements: f.sql.statements.length,
      atomic: f.sql.transactional,
      down: f.down?.fileName ?? null
    })),
    errors,
    warnings
  };
  if (!out.json) {
    out.line(`${c.bold("Folder:")} ${displayPath(folder, ctx.io.cwd)}`);
    const width = Math.max(0, ...report.files.map((f) => f.fileName.length));
    for (const f of report.files) {
      const notes = [
        plural(f.sql.statements.length, "statement"),
        f.sql.transactional ? "" : "not atomic (-- wukong:no-transaction)",
        f.down ? `down: ${f.down.fileName}` : ""
      ].filter(Boolean);
      out.line(`  ${c.green("ok")}  ${f.fileName.padEnd(width)}  ${c.dim(notes.join(", "))}`);
    }
    printWarnings(out, warnings);
    for (const e of errors) {
      for (const line of renderError(e, out.err, { folder, cwd: ctx.io.cwd })) out.error(line);
      out.error();
    }
    const tally = `${plural(warnings.length, "warning")}`;
    if (errors.length)
      out.line(c.red(`verify failed: ${plural(errors.length, "error")}, ${tally}; migrate would refuse this folder.`));
    else out.line(c.green(`verify passed: ${plural(report.files.length, "file")}, ${tally}.`));
  }
  return {
    exitCode: errors.length ? EXIT.FAILED : EXIT.OK,
    fields,
    error: errors.length ? report.errors[0] : void 0,
    errorShown: true
  };
}
var init_verify = __esm({
  "src/cli/commands/verify.ts"() {
    "use strict";
    init_describe_error();
    init_exit_codes();
    init_format();
    init_render_error();
    init_verify_folder();
    init_verify_round_trip2();
  }
});

// src/cli/commands/diff.ts
var diff_exports = {};
__export(diff_exports, {
  diffCommand: () => diffCommand
});
async function diffCommand(ctx) {
  let result;
  try {
    const shadowUrl = ctx.args.shadowUrl;
    result = await withRunner(ctx, {}, (runner) => runner.diff({ shadowUrl }));
  } catch (error) {
    return { exitCode: EXIT.FAILED, fields: diffFields(), error };
  }
  if (!ctx.out.json) print4(ctx, result);
  return { exitCode: result.inSync ? EXIT.OK : EXIT.NOT_UP_TO_DATE, fields: diffFields(result) };
}
function diffFields(r) {
  return {
    inSync: r?.inSync ?? false,
    currentVersion: r?.currentVersion ?? null,
    builtFiles: r?.builtFiles ?? [],
    missingVersions: r?.missingVersions ?? [],
    editedFiles: r?.editedFiles ?? [],
    differences: r?.differences ?? [],
    shadow: r?.shadow
  };
}
function print4(ctx, result) {
  const { out } = ctx;
  const c = out.out;
  printHeader(ctx);
  const where = `shadow database ${result.shadow.name}, ${result.shadow.created ? "dropped" : "emptied"}`;
  out.line(`${c.bold("Expected:")} what ${plural(result.builtFiles.length, "applied file")} build (${where})`);
  out.line();
  if (result.missingVersions.length) {
    const versions = result.missingVersions.join(", ");
    out.line(c.yellow(`Applied versions with no file here: ${versions}; what they made shows as added.`));
  }
  if (result.editedFiles.length) {
    out.line(c.yellow(`Applied files edited since: ${result.editedFiles.join(", ")}; their current text was built.`));
  }
  if (result.inSync) {
    const where2 = versionPhrase(result.currentVersion);
    out.line(c.green(`In sync: the database has exactly what its applied files build (${where2}).`));
    return;
  }
  for (const line of differenceLines(result.differences, c)) out.line(line);
  out.line();
  out.line(c.yellow(`Not in sync: ${differenceTally(result.differences)}; ${versionPhrase(result.currentVersion)}.`));
  out.line(c.dim(LEGEND));
}
var LEGEND;
var init_diff = __esm({
  "src/cli/commands/diff.ts"() {
    "use strict";
    init_command_context();
    init_diff_printer();
    init_exit_codes();
    init_format();
    init_run_printer();
    LEGEND = "  + only in the database   - only in what the files build   ~ in both, different (expected \u2192 actual)";
  }
});

// src/cli/commands/lint.ts
var lint_exports = {};
__export(lint_exports, {
  lintCommand: () => lintCommand
});
import { join as join10, resolve as resolve2 } from "node:path";
async function lintCommand(ctx) {
  const empty = { files: [], statements: 0, findings: [], summary: { errors: 0, warnings: 0, allowed: 0 } };
  try {
    const db = ctx.args.url ? await createDatabase({ url: ctx.args.url, driver: "pg", max: 1 }) : void 0;
    try {
      const named = ctx.args.files.map((f) => resolve2(ctx.io.cwd, f));
      const files = named.length ? named : db ? await pendingFiles(ctx) : folderFiles(ctx.folder);
      const linted = await lintMigrationFiles(files, { db });
      const shown = (file) => displayPath(file, ctx.io.cwd);
      const report = {
        ...linted,
        files: linted.files.map(shown),
        findings: linted.findings.map((f) => ({ ...f, file: shown(f.file) }))
      };
      if (!ctx.out.json) ctx.out.line(renderLintReport(report, { style: ctx.out.out }));
      const fails = lintFails(report, ctx.args.failOn === "warning" ? "warning" : "error");
      return { exitCode: fails ? EXIT.NOT_UP_TO_DATE : EXIT.OK, fields: { ...report } };
    } finally {
      await db?.destroy();
    }
  } catch (error) {
    return { exitCode: EXIT.FAILED, fields: empty, error };
  }
}
function folderFiles(folder) {
  return scanMigrationFolder(folder).flatMap((h) => [h.path, ...h.down ? [h.down.path] : []]);
}
async function pendingFiles(ctx) {
  const { pending } = await withRunner(ctx, {}, (runner) => runner.status());
  return pending.map((p) => join10(ctx.folder, p.fileName));
}
var init_lint2 = __esm({
  "src/cli/commands/lint.ts"() {
    "use strict";
    init_connect();
    init_lint();
    init_provider();
    init_command_context();
    init_exit_codes();
    init_format();
  }
});

// src/cli/migrate.ts
init_redact();

// src/cli/database-target.ts
init_embedded_settings();
init_redact();
init_resolve_database_url();
function databaseTarget(urlOption, env, embedded = false) {
  const { url, source } = embedded ? { url: void 0, source: "embedded" } : resolveDatabaseUrl(urlOption, env);
  if (source === "embedded" || !url)
    return Object.freeze({ source: "embedded", url: null, dataDir: embeddedDataDir(env) });
  return Object.freeze({
    source: source === "option" ? "--url" : source,
    url: redact(redactUrl(url), urlSecrets(url)),
    dataDir: null
  });
}
function knownSecrets(argv, env) {
  const urls = [...argv.filter((a) => a.includes("://")), ...DATABASE_URL_VARIABLES.map((name) => env[name])];
  return [...new Set(urls.flatMap((u) => u ? urlSecrets(u) : []))];
}

// src/cli/migrate.ts
init_exit_codes();

// src/cli/run-cli.ts
init_embedded_settings();
import { resolve as resolve4 } from "node:path";

// src/provider/package-migration-folder.ts
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
var DEFAULT_MIGRATION_FOLDER = join(packageRoot(), "migrations");
function packageRoot() {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here, depth = 0; depth < 4; dir = dirname(dir), depth++) {
    if (existsSync(join(dir, "package.json"))) return dir;
  }
  return join(here, "..", "..");
}
var manifest;
function packageVersion() {
  manifest ??= Object.freeze(JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")));
  return manifest;
}

// src/cli/cli-output.ts
init_redact();

// src/cli/colors.ts
function colorEnabled(stream, env) {
  if (env["NO_COLOR"]) return false;
  const force = env["FORCE_COLOR"];
  if (force !== void 0) return force !== "0" && force.toLowerCase() !== "false";
  return stream.isTTY === true && env["TERM"] !== "dumb";
}
function palette(enabled) {
  const style = (open2, close) => (text) => enabled && text ? `\x1B[${open2}m${text}\x1B[${close}m` : text;
  return Object.freeze({
    bold: style(1, 22),
    dim: style(2, 22),
    red: style(31, 39),
    green: style(32, 39),
    yellow: style(33, 39),
    cyan: style(36, 39)
  });
}

// src/cli/cli-output.ts
var CliOutput = class {
  #io;
  #secrets;
  #closed = /* @__PURE__ */ new Set();
  out;
  err;
  json;
  constructor(io, options) {
    this.#io = io;
    this.#secrets = options.secrets;
    this.json = options.json;
    this.out = palette(!options.json && colorEnabled(io.stdout, io.env));
    this.err = palette(colorEnabled(io.stderr, io.env));
    for (const stream of /* @__PURE__ */ new Set([io.stdout, io.stderr])) {
      stream.on("error", (error) => {
        if (error.code !== "EPIPE") throw error;
        this.#closed.add(stream);
      });
    }
  }
  /** Raw text: already redacted, or fixed text such as the usage. */
  write(stream, text) {
    const target = stream === "stdout" ? this.#io.stdout : this.#io.stderr;
    if (!this.#closed.has(target)) target.write(text);
  }
  /** Dropped with `--json`, where stdout is the document. */
  line(text = "") {
    if (!this.json) this.write("stdout", `${redact(text, this.#secrets)}
`);
  }
  error(text = "") {
    this.write("stderr", `${redact(text, this.#secrets)}
`);
  }
  document(doc) {
    const json = JSON.stringify(
      doc,
      (_key, value) => typeof value === "string" ? redact(value, this.#secrets) : value,
      2
    );
    this.write("stdout", `${redact(json, this.#secrets)}
`);
  }
};

// src/cli/flag-table.ts
init_resolve_database_url();
var VALUE_KINDS = {
  url: { placeholder: "<url>", example: "postgres://user@host:5432/db" },
  folder: { placeholder: "<folder>", example: "migrations" },
  file: { placeholder: "<path>", example: ".env.production" },
  ms: { placeholder: "<ms>", example: "10000", max: 2147483647, unit: "milliseconds" },
  version: { placeholder: "<N>", example: "3", max: 2147483647, unit: "a version" },
  schema: { placeholder: "<schema>", example: "app_migrations" },
  level: { placeholder: "<level>", example: "warning", choices: ["warning", "error"] }
};
var FLAGS = {
  url: {
    key: "url",
    value: "url",
    env: DATABASE_URL_VARIABLES.join(", "),
    default: "the embedded database, only when no URL variable is set",
    help: "the database; overrides every environment variable"
  },
  embedded: {
    key: "embedded",
    help: "the embedded PGlite database, whatever the environment holds (also in production)"
  },
  dir: {
    key: "dir",
    value: "folder",
    env: "WUKONG_MIGRATIONS_DIR",
    default: "the package's migrations/",
    help: "the migration files"
  },
  "env-file": {
    key: "envFiles",
    value: "file",
    multiple: true,
    default: ".env, then .env.local",
    help: "read variables from this file instead (repeatable; a later file wins; variables already set win over all)"
  },
  json: { key: "json", help: "print exactly one JSON document on stdout (docs/json-output.md)" },
  check: { key: "check", help: "exit 3 unless the database is up to date" },
  to: {
    key: "to",
    value: "version",
    default: "the version below the last applied",
    help: "revert every file above version N (0: all, a 000_ file included)"
  },
  "allow-drift": { key: "allowDrift", help: "go on although applied files were edited or are gone" },
  "ledger-schema": {
    key: "ledgerSchema",
    value: "schema",
    env: "WUKONG_LEDGER_SCHEMA",
    default: "the package's ledgers, wherever they are (a new database: public)",
    help: "a migration set of its own: these files' ledgers live in this schema, apart from the package's"
  },
  "shadow-url": {
    key: "shadowUrl",
    value: "url",
    default: "a database created on the same server, dropped afterwards",
    help: "an empty database to build the expected schema in"
  },
  roundtrip: { key: "roundtrip", help: "prove every down file on a scratch database" },
  "require-down": { key: "requireDown", help: "with --roundtrip: fail on files without a down file" },
  "lock-timeout": {
    key: "lockTimeoutMs",
    value: "ms",
    default: "10000",
    help: "how long a statement, or a read of the ledger, may wait for a table lock (0 = forever)"
  },
  "lock-wait-timeout": {
    key: "lockWaitTimeoutMs",
    value: "ms",
    default: "300000",
    help: "how long to wait for another migrator to finish (0 = forever)"
  },
  "connect-timeout": {
    key: "connectTimeoutMs",
    value: "ms",
    default: "30000; the URL's connect_timeout wins",
    help: "how long to wait for a connection (0 = forever)"
  },
  "statement-timeout": {
    key: "statementTimeoutMs",
    value: "ms",
    default: "0",
    help: "how long a statement may run (0 = no limit)"
  },
  "busy-timeout": {
    key: "busyTimeoutMs",
    value: "ms",
    env: "WUKONG_PGLITE_BUSY_TIMEOUT_MS",
    default: "10000",
    help: "the embedded database: how long to wait for another process to close it (0 = fail at once)"
  },
  "fail-on": {
    key: "failOn",
    value: "level",
    default: "error",
    help: "lint: exit 3 when a finding no directive allows is at this level (warning or error) or above"
  },
  help: { key: "help", short: "h", help: "this text (after a command: that command's flags and an example)" },
  version: { short: "v", help: "the package's version (no command)" }
};

// src/cli/command-table.ts
var COMMON_FLAGS = ["dir", "env-file", "json", "help"];
var WAITS = ["connect-timeout", "busy-timeout"];
var WRITES2 = [
  "url",
  "ledger-schema",
  "embedded",
  "allow-drift",
  "lock-timeout",
  "lock-wait-timeout",
  "statement-timeout",
  ...WAITS
];
var COMMANDS = [
  {
    name: "migrate",
    aliases: ["up"],
    detail: "Applies every pending file in order, each in its own transaction. A file commits with its schema_versions row; on an up-to-date database this is one query.",
    example: "DATABASE_URL=postgres://app@db.example.com/app wukong-migrate migrate",
    database: true,
    flags: WRITES2,
    run: (ctx) => Promise.resolve().then(() => (init_migrate(), migrate_exports)).then((m) => m.migrateCommand(ctx))
  },
  {
    name: "status",
    synopsis: "[--check]",
    detail: "Shows where the database stands: applied, adopted, pending, drifted, missing. Reads only; with --check, exits 3 unless the database is up to date.",
    example: "wukong-migrate status --check || wukong-migrate migrate",
    database: true,
    flags: ["url", "ledger-schema", "embedded", "check", "lock-timeout", ...WAITS],
    run: (ctx) => Promise.resolve().then(() => (init_status(), status_exports)).then((m) => m.statusCommand(ctx))
  },
  {
    name: "down",
    synopsis: "[--to N]",
    detail: "Reverts the last applied file with its NNN_name.down.sql. With --to N: every file above N (0: all).",
    example: "wukong-migrate down --to 2",
    database: true,
    flags: ["to", ...WRITES2],
    run: (ctx) => Promise.resolve().then(() => (init_down(), down_exports)).then((m) => m.downCommand(ctx))
  },
  {
    name: "create",
    synopsis: "<name>",
    detail: "Writes the next NNN_name.sql from a commented template. The name becomes lower-case words joined by underscores; needs no database.",
    example: 'wukong-migrate create "add session tags" --dir migrations',
    operands: "name",
    database: false,
    flags: [],
    run: (ctx) => Promise.resolve().then(() => (init_create(), create_exports)).then((m) => m.createCommand(ctx))
  },
  {
    name: "plan",
    detail: "Lists the files and statements migrate would run; changes nothing. Each statement comes with its line number, and the linter's findings on those files are warnings, as in verify.",
    example: "wukong-migrate plan --url postgres://app@localhost:5432/app",
    database: true,
    flags: ["url", "ledger-schema", "embedded", "allow-drift", "lock-timeout", ...WAITS],
    run: (ctx) => Promise.resolve().then(() => (init_plan(), plan_exports)).then((m) => m.planCommand(ctx))
  },
  {
    name: "verify",
    synopsis: "[--roundtrip [--require-down]]",
    detail: "Checks the folder offline: names, numbering, encoding, SQL syntax, directives. Lists every problem and needs no database (for CI). With --roundtrip, proves the down files on a scratch database: each must restore the schema its up file found, and the up file must then rebuild the same schema.",
    example: "wukong-migrate verify --dir migrations",
    database: "roundtrip",
    flags: ["roundtrip", "require-down", "url", "embedded", "shadow-url"],
    onlyWith: {
      flag: "roundtrip",
      flags: ["require-down", "url", "embedded", "shadow-url"],
      why: "plain verify reads no database"
    },
    run: (ctx) => Promise.resolve().then(() => (init_verify(), verify_exports)).then((m) => m.verifyCommand(ctx))
  },
  {
    name: "diff",
    synopsis: "[--shadow-url <url>]",
    detail: "Compares the database's schema with what its applied files build; reads only. The files are built in a shadow database; exit 3 when the schemas differ.",
    example: "wukong-migrate diff --url postgres://app@localhost:5432/app",
    database: true,
    flags: ["url", "embedded", "shadow-url"],
    run: (ctx) => Promise.resolve().then(() => (init_diff(), diff_exports)).then((m) => m.diffCommand(ctx))
  },
  {
    name: "lint",
    synopsis: "[<file>\u2026]",
    detail: "Lists the statements that would block a live app: the lock each takes, on which table, whether it rewrites or scans it, and the safe form (docs/lint.md). Offline: the folder's files, or the ones named; with --url, the pending files, ranked by their tables' size. Exit 3 at --fail-on or above.",
    example: "wukong-migrate lint --url postgres://app@localhost:5432/app",
    operands: "files",
    database: "url",
    flags: ["url", "ledger-schema", "fail-on"],
    run: (ctx) => Promise.resolve().then(() => (init_lint2(), lint_exports)).then((m) => m.lintCommand(ctx))
  },
  {
    name: "help",
    synopsis: "[<command>]",
    detail: "Prints this text, or a command's flags and an example. Also -h, --help, and <command> --help.",
    example: "wukong-migrate help migrate",
    database: false,
    flags: []
  }
];
function commandNamed(word) {
  return COMMANDS.find((c) => c.name === word || c.aliases?.includes(word));
}
function flagsOf(command) {
  return [...command.flags, ...COMMON_FLAGS];
}
function commandsTaking(flag) {
  if (COMMON_FLAGS.includes(flag)) return void 0;
  return COMMANDS.filter((c) => c.flags.includes(flag)).map((c) => c.name);
}
function opensDatabase(command, args2) {
  const when = command.database;
  return typeof when === "boolean" ? when : Boolean(args2[FLAGS[when].key]);
}

// src/cli/run-cli.ts
init_describe_error();
init_exit_codes();

// src/cli/interrupts.ts
init_exit_codes();
var SIGNALS = { SIGINT: EXIT.INTERRUPTED, SIGTERM: EXIT.TERMINATED };
var SHADOW_DROP_BOUND_MS = 1e4;
async function withInterrupts(out, body) {
  const controller = new AbortController();
  const interrupts = { signal: controller.signal, runners: /* @__PURE__ */ new Set(), exitCode: void 0 };
  const handlers = Object.keys(SIGNALS).map((name) => {
    const signal = name;
    const handler = () => {
      if (interrupts.exitCode === void 0) {
        interrupts.exitCode = SIGNALS[signal];
        out.error(
          `${signal}: stopping: no further file starts, and the statement in flight is canceled on the server where it can be (send ${signal} again to exit at once)`
        );
        controller.abort(new Error(signal));
        return;
      }
      out.error(`${signal} again: exiting at once; ${stillRunning(interrupts.runners)}`);
      process.exit(interrupts.exitCode);
    };
    process.on(signal, handler);
    return [signal, handler];
  });
  try {
    const code2 = await body(interrupts);
    if (interrupts.exitCode !== void 0) {
      const { dropOpenShadowDatabases: dropOpenShadowDatabases2 } = await Promise.resolve().then(() => (init_shadow_database(), shadow_database_exports));
      await Promise.race([dropOpenShadowDatabases2(), new Promise((r) => setTimeout(r, SHADOW_DROP_BOUND_MS).unref())]);
    }
    return code2;
  } finally {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  }
}
function stillRunning(runners) {
  const running = [...runners].flatMap((r) => r.inFlight ? [r.inFlight] : []);
  if (running.length === 0) return "no migration file was running";
  return running.map(
    ({ files, backendPid }) => `${files.join(", ")} may still be running on the server${backendPid === void 0 ? "" : `, backend pid ${backendPid}`}`
  ).join("; ");
}

// src/cli/load-env-files.ts
init_resolve_database_url();
init_describe_error();
import { readFileSync as readFileSync11 } from "node:fs";
import { resolve as resolve3 } from "node:path";
import { parseEnv } from "node:util";
function loadEnvFiles(env, cwd, explicit) {
  const paths = (explicit.length ? explicit : [".env", ".env.local"]).map((f) => resolve3(cwd, f));
  const merged = {};
  const files = [];
  for (const path of paths) {
    let text;
    try {
      text = readFileSync11(path, "utf8");
    } catch (error) {
      const code2 = error.code;
      if (!explicit.length && (code2 === "ENOENT" || code2 === "EISDIR")) continue;
      throw new UsageError(
        `${explicit.length ? "--env-file " : "cannot read "}${path}: ${code2 === "ENOENT" ? "no such file" : error.message}`
      );
    }
    const vars = parseEnv(text.replace(/^\uFEFF/, ""));
    text.split(/\r?\n/).forEach((line, i) => {
      const name = DATABASE_URL_VARIABLES.find((n) => new RegExp(`^\\s*(export\\s+)?${n}\\b`).test(line));
      if (name && vars[name] === void 0)
        throw new UsageError(`${path}:${i + 1}: this line does not set ${name}; write ${name}=postgres://\u2026`);
    });
    Object.assign(merged, vars);
    files.push(path);
  }
  if (!files.length) return Object.freeze({ env, files });
  for (const [name, value] of Object.entries(env)) if (value !== void 0) merged[name] = value;
  return Object.freeze({ env: merged, files: Object.freeze(files) });
}

// src/cli/parse-args.ts
import { parseArgs } from "node:util";
init_describe_error();
var SPECS = FLAGS;
function parseCliArgs(argv) {
  const { given, positionals } = tokenize(argv);
  const [word, ...rest] = positionals;
  const json = given.has("json");
  if (given.has("version")) {
    if (word !== void 0) throw new UsageError(`--version takes no command (got "${word}")`);
    return args({ command: "version", json });
  }
  if (word === void 0 && !given.has("help")) throw new UsageError("no command given");
  const command = commandNamed(word ?? "help");
  if (!command) throw new UsageError(`unknown command "${word}"`);
  if (command.name === "help" && rest.length) {
    const about = commandNamed(rest[0]);
    if (!about || about.name === "help" || rest.length > 1)
      throw new UsageError(`help takes one command name, got "${rest.join(" ")}"`);
    return args({ command: "help", help: true, helpFor: about.name, json });
  }
  if (given.has("help"))
    return args({ command: "help", help: true, helpFor: command.name === "help" ? void 0 : command.name, json });
  for (const flag of given.keys()) {
    if (!flagsOf(command).includes(flag))
      throw new UsageError(
        `--${flag} does not apply to ${command.name} (it applies to ${commandsTaking(flag).join(", ")})`
      );
  }
  const rule = command.onlyWith;
  for (const flag of rule && !given.has(rule.flag) ? rule.flags : []) {
    if (given.has(flag))
      throw new UsageError(`--${flag} does not apply to ${command.name} without --${rule.flag} (${rule.why})`);
  }
  if (command.operands === "name" && rest.length !== 1)
    throw new UsageError(
      rest.length ? `${command.name} takes one name, got ${rest.length}: quote a name with spaces` : `${command.name} needs a name, e.g. ${command.name} add_session_tags`
    );
  if (!command.operands && rest.length) throw new UsageError(`unexpected argument "${rest[0]}" after ${word}`);
  if (given.has("url") && given.has("embedded"))
    throw new UsageError("--url and --embedded name two different databases: pass one");
  const fields = {
    command: command.name,
    ...command.operands === "name" ? { name: rest[0] } : { files: rest }
  };
  for (const [flag, value] of given) fields[SPECS[flag].key] = convert(flag, value);
  return args(fields);
}
function args(fields) {
  const absent = Object.values(SPECS).flatMap(
    (f) => f.key ? [[f.key, f.multiple ? [] : f.value ? void 0 : false]] : []
  );
  return Object.freeze({ files: [], ...Object.fromEntries(absent), ...fields });
}
function tokenize(argv) {
  const options = Object.fromEntries(
    Object.entries(SPECS).map(
      ([name, f]) => [name, { type: f.value ? "string" : "boolean", ...f.short && { short: f.short } }]
    )
  );
  const { tokens } = parseArgs({ args: [...argv], allowPositionals: true, strict: false, tokens: true, options });
  const given = /* @__PURE__ */ new Map();
  const positionals = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const flag = token.name;
    const spec = SPECS[flag];
    if (!spec) throw new UsageError(`unknown flag "${token.rawName}"`);
    if (!spec.value) {
      if (token.value !== void 0)
        throw new UsageError(`--${flag} takes no value (got "${token.rawName}=${token.value}")`);
      given.set(flag, true);
      continue;
    }
    const value = token.value;
    if (value === void 0 || !value.trim() || !token.inlineValue && /^-(?!\d)/.test(value))
      throw new UsageError(`--${flag} needs a value, e.g. --${flag} ${VALUE_KINDS[spec.value].example}`);
    const before = given.get(flag);
    if (before !== void 0 && !spec.multiple) throw new UsageError(`--${flag} is given twice: pass it once`);
    given.set(flag, spec.multiple ? [...before ?? [], value] : value);
  }
  return { given, positionals };
}
function convert(flag, value) {
  const kind = VALUE_KINDS[SPECS[flag].value ?? "url"];
  if (typeof value === "string" && "choices" in kind && !kind.choices.includes(value))
    throw new UsageError(`--${flag} needs one of ${kind.choices.join(", ")}, got "${value}"`);
  if (typeof value !== "string" || !("max" in kind)) return value;
  if (!/^\d+$/.test(value) || Number(value) > kind.max)
    throw new UsageError(`--${flag} needs a whole number from 0 to ${kind.max} (${kind.unit}), got "${value}"`);
  return Number(value);
}

// src/cli/run-cli.ts
init_render_error();

// src/cli/usage.ts
init_resolve_database_url();
var WIDTH = 92;
var COLUMN = 24;
var TRAILER = `Files (only *.sql names are read; other files are ignored):
  NNN_name.sql, NNN_name.down.sql   every file with the same number of digits;
                        version 000 is allowed, and down --to 0 reverts it too
  -- wukong:no-transaction   (a line at the top) run the file outside a transaction
  -- wukong:own-timeouts     (a line at the top) let the file SET its own lock_timeout
                        and statement_timeout; otherwise such statements are refused
  A file's SET and set_config() last only for that file. A file may not write the
  ledgers (schema_versions, kysely_migration) or release advisory locks.

Exit codes:
  0  done
  1  a migration, a migration file, or the connection failed
  2  the command line is wrong
  3  status --check: pending, drifted or missing migrations;
     diff: the database differs from what its applied files build

Environment (also read from .env and .env.local in the working directory):
  ${DATABASE_URL_VARIABLES.join(", ")}
                        the database, first non-empty one wins; set but all empty: an error,
                        never the embedded database; with none set where NODE_ENV=production,
                        VERCEL_ENV or VERCEL=1, commands fail (NO_DATABASE_URL) unless --embedded
  WUKONG_PGLITE_DIR     the embedded database's folder (default .wukong/pglite)
  NO_COLOR              no colour (colour is only ever used on a terminal)
  FORCE_COLOR           colour even when not on a terminal (0 or false: never)

More: docs/cli.md in the package.
`;
var USAGE = [
  "Usage: wukong-migrate <command> [flags]",
  "",
  "Keeps a PostgreSQL database up to date from numbered SQL files (NNN_name.sql).",
  "",
  "Commands:",
  ...COMMANDS.flatMap((c) => row(commandTitle(c), c.detail.split(". ")[0].replace(/\.$/, ""))),
  "",
  "Flags:",
  ...Object.keys(FLAGS).flatMap((flag) => {
    const commands = commandsTaking(flag);
    return row(flagTitle(flag), `${flagText(flag)}${commands?.length ? ` [${commands.join(", ")}]` : ""}`);
  }),
  "",
  TRAILER
].join("\n");
function commandUsage(name) {
  const command = commandNamed(name);
  const alias = command.aliases ? `   (alias: ${command.aliases.join(", ")})` : "";
  return [
    `Usage: wukong-migrate ${[command.name, command.synopsis, "[flags]"].filter(Boolean).join(" ")}${alias}`,
    "",
    ...wrap(command.detail, 0),
    "",
    "Flags:",
    ...flagsOf(command).flatMap((flag) => row(flagTitle(flag), flagText(flag))),
    "",
    "Example:",
    `  ${command.example}`,
    ""
  ].join("\n");
}
function commandTitle(command) {
  return [[command.name, ...command.aliases ?? []].join(", "), command.synopsis].filter(Boolean).join(" ");
}
function flagTitle(flag) {
  const spec = FLAGS[flag];
  const value = spec.value ? ` ${VALUE_KINDS[spec.value].placeholder}` : "";
  return `${spec.short ? `-${spec.short}, ` : ""}--${flag}${value}`;
}
function flagText(flag) {
  const spec = FLAGS[flag];
  const fallback = [spec.env && `env ${spec.env}`, spec.default && `default ${spec.default}`].filter(Boolean);
  return `${spec.help}${fallback.length ? ` (${fallback.join("; ")})` : ""}`;
}
function row(title, text) {
  const lines = wrap(text, COLUMN);
  if (title.length + 4 <= COLUMN) return [`  ${title.padEnd(COLUMN - 2)}${lines[0].trimStart()}`, ...lines.slice(1)];
  return [`  ${title}`, ...lines];
}
function wrap(text, indent) {
  const lines = [""];
  for (const word of text.split(" ")) {
    const last = lines.length - 1;
    if (lines[last] && indent + lines[last].length + 1 + word.length > WIDTH) lines.push(word);
    else lines[last] = lines[last] ? `${lines[last]} ${word}` : word;
  }
  return lines.map((l) => " ".repeat(indent) + l);
}

// src/cli/run-cli.ts
async function runCli(argv, io) {
  let secrets = knownSecrets(argv, io.env);
  let args2;
  try {
    args2 = parseCliArgs(argv);
    if (args2.command !== "help" && args2.command !== "version") {
      const { env } = loadEnvFiles(io.env, io.cwd, args2.envFiles);
      io = { ...io, env };
      secrets = knownSecrets(argv, env);
    }
  } catch (error) {
    const out2 = new CliOutput(io, { json: argv.includes("--json"), secrets });
    return finish(
      out2,
      io,
      { command: commandWord(argv), folder: null, database: null },
      { exitCode: EXIT.USAGE, fields: {}, error }
    );
  }
  const out = new CliOutput(io, { json: args2.json, secrets });
  if (args2.command === "version" || args2.command === "help") {
    const { name, version } = packageVersion();
    const text = args2.command === "version" ? `${version}
` : args2.helpFor ? commandUsage(args2.helpFor) : USAGE;
    if (!args2.json) out.write("stdout", text);
    const fields = args2.command === "version" ? { name, packageVersion: version } : { usage: text };
    return finish(out, io, { command: args2.command, folder: null, database: null }, { exitCode: EXIT.OK, fields });
  }
  const folder = resolve4(io.cwd, args2.dir ?? (io.env["WUKONG_MIGRATIONS_DIR"] || DEFAULT_MIGRATION_FOLDER));
  const command = commandNamed(args2.command);
  let target = null;
  try {
    target = opensDatabase(command, args2) ? databaseTarget(args2.url, io.env, args2.embedded) : null;
    if (target?.source === "embedded") embeddedBusyTimeoutMs(args2.busyTimeoutMs, io.env);
  } catch (error) {
    const usage = error instanceof RangeError ? new UsageError(error.message) : error;
    const exitCode = usage instanceof UsageError ? EXIT.USAGE : EXIT.FAILED;
    return finish(out, io, { command: args2.command, folder, database: target }, { exitCode, fields: {}, error: usage });
  }
  const envelope = { command: args2.command, folder, database: target };
  const runCommand2 = async (interrupts) => {
    const ctx = { args: args2, io, out, folder, target, interrupts };
    let result;
    try {
      result = await command.run(ctx);
    } catch (error) {
      result = { exitCode: EXIT.FAILED, fields: {}, error };
    }
    if (result.error instanceof UsageError) result = { ...result, exitCode: EXIT.USAGE };
    if (interrupts?.exitCode !== void 0) result = { ...result, exitCode: interrupts.exitCode };
    return finish(out, io, envelope, result);
  };
  return target ? withInterrupts(out, runCommand2) : runCommand2();
}
function finish(out, io, envelope, result) {
  const error = result.error === void 0 ? null : describeError(result.error, { folder: envelope.folder, target: envelope.database });
  if (out.json) {
    out.document({
      version: 1,
      command: envelope.command,
      ok: result.exitCode === EXIT.OK || result.exitCode === EXIT.NOT_UP_TO_DATE,
      exitCode: result.exitCode,
      database: envelope.database,
      folder: envelope.folder,
      ...result.fields,
      error
    });
    return result.exitCode;
  }
  if (error && !result.errorShown) {
    for (const line of renderError(error, out.err, { folder: envelope.folder, cwd: io.cwd })) out.error(line);
    if (error.code === "USAGE" && envelope.command === "help") out.write("stderr", `
${USAGE}`);
  }
  if (result.trailer) out.line(result.trailer);
  return result.exitCode;
}
function commandWord(argv) {
  return argv.find((a) => !a.startsWith("-")) ?? "help";
}

// src/cli/migrate.ts
var code;
try {
  code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd()
  });
} catch (error) {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`error[UNEXPECTED]: ${redact(message, knownSecrets(process.argv, process.env))}
`);
  code = EXIT.FAILED;
}
process.exitCode = code;
setTimeout(() => process.exit(code), 2e3).unref();
