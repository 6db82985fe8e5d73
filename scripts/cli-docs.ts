/**
 * Writes the command and flag reference of docs/cli.md (between `<!-- cli:start -->` and
 * `<!-- cli:end -->`) from the CLI's command table, src/cli/command-table.ts, so the docs say
 * what the parser does. `npm test` checks that the section is current.
 *
 *   tsx scripts/cli-docs.ts           write the section
 *   tsx scripts/cli-docs.ts --check   exit 1 when it is stale
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { type CliFlag, COMMANDS, commandsTaking, FLAGS, type FlagSpec } from '../src/cli/command-table.js'
import { commandTitle, flagTitle } from '../src/cli/usage.js'

const target = fileURLToPath(new URL('../docs/cli.md', import.meta.url))
const START = '<!-- cli:start: generated from src/cli/command-table.ts by scripts/cli-docs.ts; edit the table -->'
const END = '<!-- cli:end -->'

const code = (text: string): string => `\`${text}\``
const table = (head: readonly string[], rows: readonly (readonly string[])[]): string[] =>
  [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`)

const section = [
  START,
  '',
  ...table(
    ['Command', 'What it does', 'Database', 'Example'],
    COMMANDS.map((c) => [
      code(commandTitle(c)),
      c.detail,
      typeof c.database === 'boolean' ? (c.database ? 'yes' : 'no') : `with --${c.database}`,
      code(c.example),
    ]),
  ),
  '',
  ...table(
    ['Flag', 'Meaning', 'Default', 'Environment', 'Commands'],
    (Object.keys(FLAGS) as CliFlag[]).map((flag) => {
      const spec: FlagSpec = FLAGS[flag]
      return [
        code(flagTitle(flag)),
        spec.help,
        spec.default ?? '',
        spec.env ? spec.env.split(', ').map(code).join(', ') : '',
        commandsTaking(flag)?.join(', ') || (flag === 'version' ? 'none: alone' : 'all'),
      ]
    }),
  ),
  '',
  END,
].join('\n')

const current = readFileSync(target, 'utf8')
const [from, to] = [current.indexOf('<!-- cli:start'), current.indexOf(END)]
if (from < 0 || to < from) {
  console.error(`${target}: no <!-- cli:start --> … ${END} section to write`)
  process.exit(1)
}
const text = current.slice(0, from) + section + current.slice(to + END.length)
if (process.argv.includes('--check')) {
  if (text !== current) {
    console.error('docs/cli.md: the command reference is stale; run: tsx scripts/cli-docs.ts')
    process.exit(1)
  }
} else if (text !== current) writeFileSync(target, text)
