import { parseArgs } from 'node:util'

import type { CliArgs } from './command-context.js'
import { commandNamed, commandsTaking, flagsOf } from './command-table.js'
import { UsageError } from './cli-error.js'
import { type CliFlag, FLAGS, type FlagSpec, VALUE_KINDS } from './flag-table.js'

const SPECS: Readonly<Record<string, FlagSpec>> = FLAGS

/** Throws a {@link UsageError} for anything that cannot run as written, before anything is opened. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const { given, positionals } = tokenize(argv)
  const [word, ...rest] = positionals
  const json = given.has('json')
  if (given.has('version')) {
    if (word !== undefined) throw new UsageError(`--version takes no command (got "${word}")`)
    return args({ command: 'version', json })
  }
  if (word === undefined && !given.has('help')) throw new UsageError('no command given')
  const command = commandNamed(word ?? 'help')
  if (!command) throw new UsageError(`unknown command "${word}"`)
  if (command.name === 'help' && rest.length) {
    // `help migrate` is `migrate --help`.
    const about = commandNamed(rest[0]!)
    if (!about || about.name === 'help' || rest.length > 1)
      throw new UsageError(`help takes one command name, got "${rest.join(' ')}"`)
    return args({ command: 'help', help: true, helpFor: about.name, json })
  }
  if (given.has('help'))
    return args({ command: 'help', help: true, helpFor: command.name === 'help' ? undefined : command.name, json })

  for (const flag of given.keys()) {
    if (!flagsOf(command).includes(flag))
      throw new UsageError(
        `--${flag} does not apply to ${command.name} (it applies to ${commandsTaking(flag)!.join(', ')})`,
      )
  }
  const rule = command.onlyWith
  for (const flag of rule && !given.has(rule.flag) ? rule.flags : []) {
    if (given.has(flag))
      throw new UsageError(`--${flag} does not apply to ${command.name} without --${rule!.flag} (${rule!.why})`)
  }
  if (command.operands === 'name' && rest.length !== 1)
    throw new UsageError(
      rest.length
        ? `${command.name} takes one name, got ${rest.length}: quote a name with spaces`
        : `${command.name} needs a name, e.g. ${command.name} add_session_tags`,
    )
  if (!command.operands && rest.length) throw new UsageError(`unexpected argument "${rest[0]}" after ${word}`)
  if (given.has('url') && given.has('embedded'))
    throw new UsageError('--url and --embedded name two different databases: pass one')

  const fields: Record<string, unknown> = {
    command: command.name,
    ...(command.operands === 'name' ? { name: rest[0] } : { files: rest }),
  }
  for (const [flag, value] of given) fields[SPECS[flag]!.key!] = convert(flag, value)
  return args(fields as Partial<CliArgs>)
}

// Every field a flag sets, at its value when the flag is absent.
function args(fields: Partial<CliArgs>): CliArgs {
  const absent = Object.values(SPECS).flatMap((f) =>
    f.key ? [[f.key, f.multiple ? [] : f.value ? undefined : false]] : [],
  )
  return Object.freeze({ files: [], ...Object.fromEntries(absent), ...fields }) as CliArgs
}

// Non-strict, for its tokens: strict mode would take `--json` as the value of `--url --json`.
function tokenize(argv: readonly string[]): { given: Map<CliFlag, string | true | string[]>; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(SPECS).map(
      ([name, f]) => [name, { type: f.value ? 'string' : 'boolean', ...(f.short && { short: f.short }) }] as const,
    ),
  )
  const { tokens } = parseArgs({ args: [...argv], allowPositionals: true, strict: false, tokens: true, options })
  const given = new Map<CliFlag, string | true | string[]>()
  const positionals: string[] = []
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value)
    if (token.kind !== 'option') continue
    const flag = token.name as CliFlag
    const spec = SPECS[flag]
    if (!spec) throw new UsageError(`unknown flag "${token.rawName}"`)
    if (!spec.value) {
      if (token.value !== undefined)
        throw new UsageError(`--${flag} takes no value (got "${token.rawName}=${token.value}")`)
      given.set(flag, true)
      continue
    }
    // A value that is another flag means an unset variable in a script; a negative number is refused below.
    const value = token.value
    if (value === undefined || !value.trim() || (!token.inlineValue && /^-(?!\d)/.test(value)))
      throw new UsageError(`--${flag} needs a value, e.g. --${flag} ${VALUE_KINDS[spec.value].example}`)
    const before = given.get(flag)
    if (before !== undefined && !spec.multiple) throw new UsageError(`--${flag} is given twice: pass it once`)
    given.set(flag, spec.multiple ? [...((before as string[] | undefined) ?? []), value] : value)
  }
  return { given, positionals }
}

function convert(flag: CliFlag, value: string | true | string[]): unknown {
  const kind = VALUE_KINDS[SPECS[flag]!.value ?? 'url']
  if (typeof value === 'string' && 'choices' in kind && !(kind.choices as readonly string[]).includes(value))
    throw new UsageError(`--${flag} needs one of ${kind.choices.join(', ')}, got "${value}"`)
  if (typeof value !== 'string' || !('max' in kind)) return value
  if (!/^\d+$/.test(value) || Number(value) > kind.max)
    throw new UsageError(`--${flag} needs a whole number from 0 to ${kind.max} (${kind.unit}), got "${value}"`)
  return Number(value)
}
