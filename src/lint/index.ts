export { type LintFinding, type LintReport, lintFails, lintMigrationFiles } from './lint-migration-files.js'
export {
  LINT_RULES,
  LOCK_LEVELS,
  type LintLevel,
  type LintRule,
  type LockEffect,
  type LockLevel,
} from './lint-rules.js'
export type { RelationSize } from './relation-stats.js'
export { type LintStyle, renderLintReport } from './render-lint-report.js'
