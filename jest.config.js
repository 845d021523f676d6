// One project per test tier, selected by file suffix; see README "Tests".
const shared = {
  rootDir: '.',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^@backbone/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^@backbone/([a-z-]+)/([a-z-]+)$': '<rootDir>/libs/$1/src/$2/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

export default {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,bench,tools}/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      slowTestThreshold: 30,
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/{apps,test}/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
    },
    {
      ...shared,
      displayName: 'faults',
      // Its own 3-broker cluster (test/faults/fault.cluster.ts), started here and stopped at the end.
      testMatch: ['<rootDir>/{apps,test}/**/*.fault-spec.ts'],
      globalSetup: '<rootDir>/test/faults/faults.global-setup.ts',
      globalTeardown: '<rootDir>/test/faults/faults.global-teardown.ts',
    },
  ],
};
