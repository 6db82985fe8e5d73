import { MigrationError } from '../errors/migration-error.js'

/** Imports an optional peer on first use; a missing one is `DRIVER_NOT_INSTALLED`, naming what to install. */
export async function importDriver<T>(
  feature: string,
  load: () => Promise<T>,
  ...packages: readonly string[]
): Promise<T> {
  try {
    return await load()
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MigrationError(
        'DRIVER_NOT_INSTALLED',
        `the ${feature} needs ${packages.join(' and ')}: npm install ${packages.join(' ')}`,
        { cause: error },
      )
    }
    throw error
  }
}
