export {
  createTestDatabase,
  withRollback,
  dropTestTemplates,
  closeTestDatabases,
  DEFAULT_CLONE_STRATEGY,
  DEFAULT_TEST_DATABASE_POOL_SIZE,
  DEFAULT_TEST_DATABASE_TIMEOUT_MS,
  type TestDatabase,
  type CreateTestDatabaseOptions,
} from './create-test-database.js'
export {
  resolveTestServer,
  serverRequired,
  kyselyForUrl,
  NoTestServerError,
  type TestServer,
  type TestTier,
  type TestDatabaseHandle,
} from './test-server.js'
