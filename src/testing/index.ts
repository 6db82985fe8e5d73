export {
  createTestDatabase,
  withRollback,
  kyselyForUrl,
  dropTestTemplates,
  type TestDatabase,
  type CreateTestDatabaseOptions,
} from './create-test-database.js'
export { resolveTestServer, serverRequired, NoTestServerError, type TestServer, type TestTier, type TestDatabaseHandle } from './test-server.js'
