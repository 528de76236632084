/**
 * The AWS SDK for the integration tests. It is a dependency of
 * @hysds-stac/adapters, not of the test workspace (whose package.json these
 * tests may not change), so it is re-exported from the adapters' install.
 */
export {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client
} from "../../packages/adapters/node_modules/@aws-sdk/client-s3"
