export * from './provider/index.js'
export * from './schema-types/index.js'
export * from './connect/index.js'
export * from './schema-diff/index.js'
