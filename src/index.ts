export * from './provider/index.js'
export * from './schema-types/index.js'
