/** The process exit codes of `wukong-migrate`, for deploy scripts. */
export const EXIT = Object.freeze({
  /** The command did what was asked. */
  OK: 0,
  /** A migration, a migration file (verify, create) or the connection failed. */
  FAILED: 1,
  /** The command line is wrong: unknown command or flag, bad value. */
  USAGE: 2,
  /**
   * `status --check`: the database is not up to date (pending, drifted or missing files);
   * `diff`: the database differs from what its applied files build.
   */
  NOT_UP_TO_DATE: 3,
  /** Interrupted by SIGINT (Ctrl-C) after the running statement was canceled: 128 + 2. */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM after the running statement was canceled: 128 + 15. */
  TERMINATED: 143,
})

/** One of {@link EXIT}'s values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]
