import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { resolveTestServer, type TestDatabaseHandle, type TestServer } from '../src/testing/test-server.js'
import { cliEnv, plain } from './support/cli-process.js'
import { filesUnder } from './support/doc-blocks.js'
import {
  markdownFiles,
  ROOT,
  writeExampleProject,
  writeMarkdownProject,
  type DocProject,
} from './support/doc-projects.js'
import { needsServer } from './support/needs-server.js'

// The documentation cannot rot: every ```ts block of README.md, CONTRIBUTING.md and docs/*.md
// and every JSDoc @example of src/ is type-checked (each block a module of its own); blocks
// marked `ts run` run with node against a fresh database, `ts test` ones as a vitest file.
const BASE = join(ROOT, '.tmp-docs-check')
const server: TestServer = await resolveTestServer()
const handles: TestDatabaseHandle[] = []
afterAll(async () => {
  await Promise.all(handles.map((h) => h.destroy()))
})

const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs')

interface Run {
  readonly code: number | null
  readonly output: string
}

function run(
  file: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeout ?? 240_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          output: plain(stdout + stderr),
        })
      },
    )
  })
}

/** tsc over a project, its errors mapped back to the documentation's own file and line. */
async function typeErrors(project: DocProject): Promise<string[]> {
  const { output } = await run(process.execPath, [TSC, '-p', project.dir, '--pretty', 'false'], { cwd: project.dir })
  return output
    .split('\n')
    .filter((line) => / error TS\d+:/.test(line))
    .map((line) => {
      const m = /^([^(]+)\((\d+),\d+\): (.*)$/.exec(line)
      const block = m ? project.files.get(m[1]!.replace(/^.*\//, '')) : undefined
      if (!m || !block) return line
      // Line numbers inside the block: the prelude (imports) is counted out.
      const preludeLines = readFileSync(join(project.dir, m[1]!.replace(/^.*\//, '')), 'utf8')
        .split('\n')
        .indexOf(block.code.split('\n')[0] ?? '')
      return `${block.where} (+${Number(m[2]) - Math.max(0, preludeLines)}): ${m[3]}`
    })
}

describe('the documentation compiles', { timeout: 300_000 }, () => {
  it('README.md, CONTRIBUTING.md and docs/*.md: every ```ts block, as an app would hold it', async () => {
    const project = writeMarkdownProject(BASE)
    expect(project.files.size).toBeGreaterThan(3)
    expect(await typeErrors(project)).toEqual([])
  })

  it("src/: every JSDoc @example (a module's own exports and the placeholders of examples.d.ts in scope)", async () => {
    const project = writeExampleProject(BASE)
    expect(project.files.size).toBeGreaterThan(50)
    expect(await typeErrors(project)).toEqual([])
  })

  it('every docs/ path that the product mentions exists and is shipped in the package', async () => {
    const mentioned = new Set<string>()
    for (const file of [...filesUnder(ROOT, 'src', '.ts'), 'README.md']) {
      for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/\bdocs\/[\w./-]+\.md\b/g)) mentioned.add(m[0])
    }
    expect(mentioned.size).toBeGreaterThan(0)
    const { files } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }
    for (const path of mentioned) {
      expect(existsSync(join(ROOT, path)), path).toBe(true)
      expect(
        files.some((f) => path === f || path.startsWith(`${f.replace(/\/$/, '')}/`)),
        `${path} in package.json "files"`,
      ).toBe(true)
    }
  })

  it('README.md: at most 250 lines; the install section starts with the install command', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    expect(readme.split('\n').length).toBeLessThanOrEqual(250)
    expect(readme).toMatch(/\n## Install\n+```sh\nnpm install @wukong\/adapter-vercel kysely pg\n/)
    for (const file of markdownFiles())
      expect(readFileSync(join(ROOT, file), 'utf8'), file).not.toMatch(/\bissue \d|\basked\b/i)
  })
})

describe.skipIf(needsServer(server, 'the runnable blocks run'))('the runnable blocks run', { timeout: 300_000 }, () => {
  const project = writeMarkdownProject(join(BASE, 'run'))
  const runnable = [...project.files].filter(([, block]) => block.mode !== 'check')

  it('some blocks are marked runnable', () => {
    expect(runnable.map(([, b]) => b.mode)).toEqual(expect.arrayContaining(['run', 'test']))
  })

  it.each(runnable.map(([name, block]) => [block.where, block.mode, name] as const))(
    '%s (%s)',
    async (_where, mode, name) => {
      const handle = await server.createDatabase()
      handles.push(handle)
      // A fresh, empty database named the way an app's environment names it; nothing else.
      const env = cliEnv({
        DATABASE_URL: handle.url!,
        TEST_DATABASE_URL: server.adminUrl,
        CI: 'true',
        WUKONG_TEST_QUIET: undefined,
        NO_COLOR: '1',
      })
      const result =
        mode === 'run'
          ? await run(process.execPath, ['--import', 'tsx', name], { cwd: project.dir, env })
          : await run(
              process.execPath,
              [
                VITEST,
                'run',
                '--root',
                project.dir,
                '--dir',
                project.dir,
                name,
                '--typecheck.enabled=false',
                '--config',
                join(project.dir, 'vitest.config.mjs'),
              ],
              { cwd: project.dir, env },
            )
      expect(result.output).not.toMatch(/TypeError/)
      expect(result.code, result.output).toBe(0)
      if (mode === 'test') expect(result.output).toContain('test databases: server from TEST_DATABASE_URL')
    },
  )
})

describe('the documented fixture pattern, without a server', { timeout: 300_000 }, () => {
  it('fails with one clear error (NoTestServerError), not a second TypeError from its cleanup', async () => {
    const project = writeMarkdownProject(join(BASE, 'no-server'))
    const tests = [...project.files].filter(([, block]) => block.mode === 'test')
    expect(tests.length).toBeGreaterThan(0)
    for (const [name] of tests) {
      const env = cliEnv({ CI: 'true', TEST_DATABASE_URL: undefined, WUKONG_TEST_NO_DOCKER: '1', NO_COLOR: '1' })
      const result = await run(
        process.execPath,
        [
          VITEST,
          'run',
          '--root',
          project.dir,
          '--dir',
          project.dir,
          name,
          '--typecheck.enabled=false',
          '--config',
          join(project.dir, 'vitest.config.mjs'),
        ],
        { cwd: project.dir, env },
      )
      expect(result.code).not.toBe(0)
      expect(result.output).toContain('NoTestServerError: no PostgreSQL server for tests')
      expect(result.output).not.toMatch(/TypeError|Cannot read properties of undefined/)
    }
  })
})
