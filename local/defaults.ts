/**
 * The embedded runtime's names that the CLI needs before (or without) loading the runtime itself: kept apart so that
 * `chaosduck validate` loads no SDK, database or sandbox code.
 */

/** Where the embedded runtime keeps its data, relative to the working directory. */
export const DEFAULT_DATA_DIR = '.chaosduck';

/** The provider name of the local sandbox's targets. */
export const SANDBOX_PROVIDER = 'sandbox';
