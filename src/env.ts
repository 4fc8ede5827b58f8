/** Environment variables that hold a secret qshare reads; never handed on to a child process (7-Zip, qBittorrent). */
export const SECRET_ENV_VARS = ['QSHARE_QBIT_PASSWORD'] as const;

/** A copy of `env` for a child process: without qshare's secret variables, and without unset entries. */
export function childEnv(env: NodeJS.ProcessEnv, drop: (key: string) => boolean = () => false): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || (SECRET_ENV_VARS as readonly string[]).includes(k) || drop(k)) continue;
    out[k] = v;
  }
  return out;
}
