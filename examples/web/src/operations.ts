// Every GraphQL operation of the page. Codegen types them and lists them in
// src/gql/persisted-documents.json: the server's trusted documents for this frontend.
import { graphql } from './gql/index.js';

export const PageFlags = graphql(`
  query PageFlags($identifier: String!, $traits: JSON) {
    flags(identifier: $identifier, traits: $traits) { ...PageFlag }
  }
`);

export const PageFlagsChanged = graphql(`
  subscription PageFlagsChanged($identifier: String!) {
    flagsChanged(identifier: $identifier) { ...PageFlag }
  }
`);

export const PageFlagFields = graphql(`
  fragment PageFlag on Flag { name enabled value variant experiment { id iteration } }
`);

export const PageRecordExposure = graphql(`
  mutation PageRecordExposure($input: RecordExposureInput!) {
    recordExposure(input: $input) {
      __typename
      ... on RecordExposurePayload { duplicate }
      ... on Error { code message }
    }
  }
`);
