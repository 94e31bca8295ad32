import type { ErrorKind } from '../errors.js';

/** The one table from error kinds to exit codes. `tls check` alone uses the monitoring-plugin codes. */
export const EXIT_CODES: Record<ErrorKind, number> = {
  failed: 1,
  usage: 2,
  'not-found': 3,
  auth: 4,
  unavailable: 5,
  cancelled: 130,
};
