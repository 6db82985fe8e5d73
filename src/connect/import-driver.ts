import { MigrationError } from '../errors/migration-error.js'

/**
 * Imports an optional peer dependency (a driver) the first time it is needed, so that an app
 * that never uses it neither installs nor loads it. A missing package is a
 * `DRIVER_NOT_INSTALLED` error that names the package to install.
 */
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
