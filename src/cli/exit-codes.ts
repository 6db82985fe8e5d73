/** Stable, as deploy scripts branch on them. */
export const EXIT = Object.freeze({
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  /** `status --check` found work, `diff` found differences, `lint` found findings at `--fail-on`. */
  NOT_UP_TO_DATE: 3,
  /** Interrupted by SIGINT (Ctrl-C) after the running statement was canceled: 128 + 2. */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM after the running statement was canceled: 128 + 15. */
  TERMINATED: 143,
})

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]
