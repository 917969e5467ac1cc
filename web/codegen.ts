// `npm run codegen`: typed documents for every graphql(`...`) in web/src, from the checked-in
// schema.graphql (test/web-client-codegen.test.ts fails when web/src/gql is stale).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['web/src/**/*.{ts,tsx}', '!web/src/gql/**'],
  generates: {
    'web/src/gql/': {
      preset: 'client',
      // Apollo Client reads whole results; fragments are plain spreads, not masked views.
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
        // Apollo Client always adds __typename, and returns null (not undefined) for null fields.
        nonOptionalTypename: true,
        skipTypeNameForRoot: true,
        avoidOptionals: { field: true, inputValue: false },
      },
    },
  },
  ignoreNoDocuments: false,
};

export default config;
