// GraphQL documents many test files need to set up what they test: a project with its
// environments, a feature with options and its states, a state change, a segment and its override, identity
// overrides, recorded exposures.
// A file that tests one of these mutations itself keeps its own, fuller document.
import { graphql } from '../generated/index.js';

export const CreateProject = graphql(`
  mutation SetupCreateProject($input: CreateProjectInput!) {
    createProject(input: $input) {
      __typename
      ... on CreateProjectPayload { project { id name environments { id name key } } }
      ... on Error { code message }
    }
  }
`);

export const CreateFeature = graphql(`
  mutation SetupCreateFeature($input: CreateFeatureInput!) {
    createFeature(input: $input) {
      __typename
      ... on CreateFeaturePayload { feature { id name options { id key } states { id environment { id name } } } }
      ... on Error { code message }
    }
  }
`);

export const UpdateFeatureState = graphql(`
  mutation SetupUpdateFeatureState($input: UpdateFeatureStateInput!) {
    updateFeatureState(input: $input) {
      __typename
      ... on UpdateFeatureStatePayload { featureState { id enabled } }
      ... on Error { code message }
    }
  }
`);

export const RecordExposure = graphql(`
  mutation SetupRecordExposure($input: RecordExposureInput!) {
    recordExposure(input: $input) {
      __typename
      ... on RecordExposurePayload { duplicate exposure { id databaseId feature variantKey identifier } }
      ... on Error { code message }
      ... on ValidationError { path }
    }
  }
`);

export const RecordExposures = graphql(`
  mutation SetupRecordExposures($input: RecordExposuresInput!) {
    recordExposures(input: $input) {
      __typename
      ... on RecordExposuresPayload {
        accepted
        duplicates
        rejected
        results { index status exposure { exposedAt } error { code ... on ValidationError { path } } }
      }
      ... on Error { code message }
    }
  }
`);

export const SetIdentityOverride = graphql(`
  mutation SetupSetIdentityOverride($input: SetIdentityOverrideInput!) {
    setIdentityOverride(input: $input) {
      __typename
      ... on SetIdentityOverridePayload { identityOverride { id } }
      ... on Error { code message }
    }
  }
`);

export const RemoveIdentityOverride = graphql(`
  mutation SetupRemoveIdentityOverride($input: RemoveIdentityOverrideInput!) {
    removeIdentityOverride(input: $input) {
      __typename
      ... on Error { code message }
    }
  }
`);

export const CreateSegment = graphql(`
  mutation SetupCreateSegment($input: CreateSegmentInput!) {
    createSegment(input: $input) {
      __typename
      ... on CreateSegmentPayload { segment { id name } }
      ... on Error { code message }
    }
  }
`);

export const SetSegmentOverride = graphql(`
  mutation SetupSetSegmentOverride($input: SetSegmentOverrideInput!) {
    setSegmentOverride(input: $input) {
      __typename
      ... on SetSegmentOverridePayload { segmentOverride { id } }
      ... on Error { code message }
    }
  }
`);
