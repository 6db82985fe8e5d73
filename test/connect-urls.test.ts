// Which URL, which driver, which lock: the decisions of src/connect, without a server.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import {
  chooseDriver,
  isPooledUrl,
  openMigrationDatabase,
  pgPoolConfig,
  POOLED_FIRST_URL_VARIABLES,
  resolveDatabaseUrl,
  tlsFromUrl,
  type MigrationDatabase,
} from '../src/connect/index.js'
import { scratchDir } from './support/scratch.js'

describe('isPooledUrl', () => {
  it.each([
    ['postgres://u:p@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require', true],
    ['postgres://u:p@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require', false],
    ['postgres://postgres.abc:p@aws-0-eu-central-1.pooler.supabase.com:6543/postgres', true],
    ['postgres://postgres.abc:p@aws-0-eu-central-1.pooler.supabase.com:5432/postgres', true],
    ['postgres://u:p@db.abc.supabase.co:5432/postgres', false],
    ['postgres://u:p@db.example.com:5432/app?pgbouncer=true&connect_timeout=15', true],
    ['postgres://u:p@db.example.com:6432/app', true],
    ['postgres://u:p@127.0.0.1:5432/app', false],
    ['postgres://u:p@my-pooler-host.example.com/app', false],
    ['not a url', false],
  ])('%s → %s', (url, pooled) => {
    expect(isPooledUrl(url)).toBe(pooled)
  })

  it('an explicit option wins over detection, both ways', () => {
    expect(isPooledUrl('postgres://u@127.0.0.1:5432/app', { pooled: true })).toBe(true)
    expect(isPooledUrl('postgres://u@x-pooler.example.com/app', { pooled: false })).toBe(false)
  })
})

describe('tlsFromUrl and pgPoolConfig: sslmode as libpq means it', () => {
  it('maps every sslmode', () => {
    expect(tlsFromUrl('postgres://u@h/db')).toBe(false)
    expect(tlsFromUrl('postgres://u@h/db?sslmode=disable')).toBe(false)
    expect(tlsFromUrl('postgres://u@h/db?sslmode=allow')).toBe(false)
    expect(tlsFromUrl('postgres://u@h/db?sslmode=prefer')).toEqual({ rejectUnauthorized: false })
    expect(tlsFromUrl('postgres://u@h/db?sslmode=require')).toEqual({ rejectUnauthorized: false })
    expect(tlsFromUrl('postgres://u@h/db?sslmode=verify-full')).toEqual({ rejectUnauthorized: true })
    expect(tlsFromUrl('postgres://u@h/db?sslrootcert=system')).toEqual({ rejectUnauthorized: true })
    const verifyCa = tlsFromUrl('postgres://u@h/db?sslmode=verify-ca')
    expect(verifyCa).toMatchObject({ rejectUnauthorized: true })
    expect(typeof verifyCa === 'object' && verifyCa.checkServerIdentity?.('other', {} as never)).toBeUndefined()
    expect(() => tlsFromUrl('postgres://u@h/db?sslmode=maybe')).toThrow(/unknown sslmode "maybe"/)
  })

  it('reads sslrootcert/sslcert/sslkey files; require with a root cert verifies the chain', async () => {
    const dir = await scratchDir('wk-tls-')
    await writeFile(join(dir, 'ca.pem'), 'CA PEM')
    await writeFile(join(dir, 'client.pem'), 'CLIENT PEM')
    await writeFile(join(dir, 'client.key'), 'CLIENT KEY')
    const tls = tlsFromUrl(
      `postgres://u@h/db?sslmode=require&sslrootcert=${dir}/ca.pem&sslcert=${dir}/client.pem&sslkey=${dir}/client.key`,
    )
    expect(tls).toMatchObject({ ca: 'CA PEM', cert: 'CLIENT PEM', key: 'CLIENT KEY', rejectUnauthorized: true })
  })

  it('takes TLS parameters out of the URL so pg cannot override an explicit ssl option', () => {
    const config = pgPoolConfig('postgres://u:p@h:5432/db?sslmode=require&pgbouncer=true&application_name=x', {
      ssl: { servername: 'db.internal' },
      max: 3,
    })
    expect(config.connectionString).toBe('postgres://u:p@h:5432/db?application_name=x')
    expect(config.ssl).toEqual({ rejectUnauthorized: false, servername: 'db.internal' })
    expect(config.max).toBe(3)
    expect(pgPoolConfig('postgres://u@h/db?sslmode=require', { ssl: false }).ssl).toBe(false)
    expect(pgPoolConfig('postgres://u@h/db', { ssl: true }).ssl).toBe(true)
  })
})

describe('chooseDriver and resolveDatabaseUrl', () => {
  it('picks pglite without a URL and pg with one (Node has TCP)', () => {
    expect(chooseDriver(undefined)).toBe('pglite')
    expect(chooseDriver('postgres://u@h/db')).toBe('pg')
  })

  it('prefers the direct URL for migrations, the pooled one for the vercel driver', () => {
    const env = {
      POSTGRES_URL: 'postgres://pooled',
      POSTGRES_URL_NON_POOLING: 'postgres://direct',
      POSTGRES_PRISMA_URL: 'postgres://prisma',
    }
    expect(resolveDatabaseUrl(undefined, env)).toEqual({ url: 'postgres://direct', source: 'POSTGRES_URL_NON_POOLING' })
    expect(resolveDatabaseUrl(undefined, { POSTGRES_PRISMA_URL: 'postgres://prisma' })).toEqual({
      url: 'postgres://prisma',
      source: 'POSTGRES_PRISMA_URL',
    })
    expect(resolveDatabaseUrl('postgres://given', env)).toEqual({ url: 'postgres://given', source: 'option' })
    expect(resolveDatabaseUrl(undefined, {})).toEqual({ source: 'embedded' })
  })

  it.each([
    [undefined, { DATABASE_URL: '' }, /DATABASE_URL is set but empty/],
    [undefined, { POSTGRES_URL_NON_POOLING: ' ', DATABASE_URL: '' }, /POSTGRES_URL_NON_POOLING, DATABASE_URL are set/],
    ['', {}, /the url option is empty/],
    ['  ', { DATABASE_URL: 'postgres://env' }, /the url option is empty/],
  ])(
    'url %j with %j names a server that cannot be used: NO_DATABASE_URL, not the embedded database',
    (url, env, message) => {
      expect(() => resolveDatabaseUrl(url, env)).toThrow(message)
      expect(() => resolveDatabaseUrl(url, env)).toThrow(expect.objectContaining({ code: 'NO_DATABASE_URL' }))
    },
  )

  it('skips an empty URL variable when a later one has a value', () => {
    expect(resolveDatabaseUrl(undefined, { POSTGRES_URL_NON_POOLING: '', DATABASE_URL: 'postgres://d' })).toEqual({
      url: 'postgres://d',
      source: 'DATABASE_URL',
    })
  })

  it("Neon's integration: DATABASE_URL_UNPOOLED (direct) over DATABASE_URL (pooled); Vercel Postgres' direct URL first", () => {
    const neon = { DATABASE_URL: 'postgres://pooled', DATABASE_URL_UNPOOLED: 'postgres://direct' }
    expect(resolveDatabaseUrl(undefined, neon)).toEqual({ url: 'postgres://direct', source: 'DATABASE_URL_UNPOOLED' })
    expect(resolveDatabaseUrl(undefined, { ...neon, POSTGRES_URL: 'postgres://vercel-pooled' }).source).toBe(
      'DATABASE_URL_UNPOOLED',
    )
    expect(
      resolveDatabaseUrl(undefined, { ...neon, POSTGRES_URL_NON_POOLING: 'postgres://vercel-direct' }).source,
    ).toBe('POSTGRES_URL_NON_POOLING')
    expect(resolveDatabaseUrl(undefined, neon, POOLED_FIRST_URL_VARIABLES).source).toBe('DATABASE_URL')
  })
})

describe('openMigrationDatabase decides driver, URL and lock', () => {
  // Pools connect lazily: opening and closing touches no server.
  async function decide(
    options: Parameters<typeof openMigrationDatabase>[0],
  ): Promise<Omit<MigrationDatabase, 'db' | 'close' | 'sever'>> {
    const target = await openMigrationDatabase(options)
    await target.close()
    const { db: _db, close: _close, sever: _sever, ...decision } = target
    return decision
  }
  const neon = 'postgres://u:p@ep-x-123.us-east-2.aws.neon.tech/neondb?sslmode=require'
  const neonPooled = 'postgres://u:p@ep-x-123-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require'

  it('Vercel with both URLs: the direct one, a session lock', async () => {
    expect(await decide({ env: { POSTGRES_URL: neonPooled, POSTGRES_URL_NON_POOLING: neon } })).toEqual({
      driver: 'pg',
      source: 'POSTGRES_URL_NON_POOLING',
      url: neon,
      pooled: false,
      lock: 'session',
      migratorOptions: { disableTransactions: true },
    })
  })

  it('only the pooled URL: the transaction-scoped lock', async () => {
    expect(await decide({ env: { POSTGRES_URL: neonPooled } })).toMatchObject({
      driver: 'pg',
      source: 'POSTGRES_URL',
      pooled: true,
      lock: 'transaction',
    })
    expect(await decide({ env: { POSTGRES_PRISMA_URL: `${neon}&pgbouncer=true` } })).toMatchObject({
      source: 'POSTGRES_PRISMA_URL',
      pooled: true,
      lock: 'transaction',
    })
  })

  it('a pooler the URL does not reveal can be declared', async () => {
    expect(await decide({ url: 'postgres://u@127.0.0.1:5432/app', env: {}, pooled: true })).toMatchObject({
      pooled: true,
      lock: 'transaction',
    })
  })

  it('the vercel driver: POSTGRES_URL first, always the transaction-scoped lock', async () => {
    expect(
      await decide({ driver: 'vercel', env: { POSTGRES_URL: neonPooled, POSTGRES_URL_NON_POOLING: neon } }),
    ).toMatchObject({
      driver: 'vercel',
      source: 'POSTGRES_URL',
      pooled: true,
      lock: 'transaction',
    })
  })

  it('no URL: the embedded database (session lock; see connect-drivers.test.ts), which has no second connection for the other lock', async () => {
    await expect(openMigrationDatabase({ env: {}, dataDir: 'memory://', lock: 'transaction' })).rejects.toThrow(
      /embedded database/,
    )
  })
})
