// The bin's entry point (also `npm run migrate`). A lone --version or --help prints its text
// before anything else loads; every other command line goes to runCli.
import { packageVersion } from '../provider/package-migration-folder.js'

const argv = process.argv.slice(2)
const only = argv.length === 1 ? argv[0] : undefined
if (only === '--version' || only === '-v') {
  process.stdout.write(`${packageVersion().version}\n`)
} else if (only === '--help' || only === '-h' || only === 'help') {
  process.stdout.write((await import('./usage.js')).USAGE)
} else {
  await (await import('./main.js')).main(argv)
}
