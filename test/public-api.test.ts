// The root entry's runtime surface is a deliberate list: adding to it is a choice made here, in
// review, not a side effect of an `export` somewhere below src/.
import { describe, expect, it } from 'vitest'

import * as api from '../src/index.js'
import * as testing from '../src/testing/index.js'

describe('the public API', () => {
  it('the root entry exports exactly these runtime values, at most 30', () => {
    const names = Object.keys(api).sort()
    expect(names).toEqual([
      'AdoptionMismatchError',
      'DATABASE_COLUMNS',
      'DEFAULT_MIGRATION_FOLDER',
      'EmbeddedDatabaseBusyError',
      'MigrationError',
      'MigrationRunError',
      'MigrationRunner',
      'MigrationSqlError',
      'NoDatabaseUrlError',
      'SqlFileMigrationProvider',
      'StillRunningError',
      'VectorPlugin',
      'WUKONG_MIGRATIONS',
      'configureNeon',
      'cosineDistance',
      'createDatabase',
      'findSchemaDifferences',
      'isPooledUrl',
      'openMigrationDatabase',
      'readMigrationFolder',
      'registerVectorType',
      'withBoundedSessionMigrationLock',
      'withTransactionScopedMigrationLock',
    ])
    expect(names.length).toBeLessThanOrEqual(30)
  })

  it('every exported error class extends MigrationError, so one instanceof check catches them all', () => {
    const errors = Object.entries(api).filter(([name]) => name.endsWith('Error') && name !== 'MigrationError')
    expect(errors.length).toBeGreaterThan(4)
    for (const [name, value] of errors) {
      const prototype = (value as { prototype: object }).prototype
      expect({ name, isMigrationError: prototype instanceof api.MigrationError }).toEqual({
        name,
        isMigrationError: true,
      })
    }
  })

  it('the testing entry shares no value with the root entry', () => {
    const shared = Object.keys(testing).filter((name) => name in api)
    expect(shared).toEqual([])
  })
})
