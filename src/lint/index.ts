export { lintFails, lintMigrationFiles } from './lint-migration-files.js'
export { LINT_RULES, LOCK_LEVELS, type LintRule } from './lint-rules.js'
export { renderLintReport } from './render-lint-report.js'
