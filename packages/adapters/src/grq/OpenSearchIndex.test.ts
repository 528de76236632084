import { test } from "bun:test"
import { endpoint, services } from "../contract/Services.ts"
import * as OpenSearchIndex from "./OpenSearchIndex.ts"
import { serverSuite } from "./SearchIndex.fixture.ts"

const env = services()

if (env === undefined) {
  test.skip("OpenSearchIndex against a real OpenSearch (test services not started)", () => {})
} else {
  serverSuite({
    name: "OpenSearch",
    url: endpoint(env, "OPENSEARCH_URL"),
    otherUrl: env["ELASTICSEARCH_URL"],
    layer: OpenSearchIndex.layer
  })
}
