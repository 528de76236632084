import { test } from "bun:test"
import { services } from "../contract/Services.ts"
import * as ElasticsearchIndex from "./ElasticsearchIndex.ts"
import { serverSuite } from "./SearchIndex.fixture.ts"

const env = services()
// Elasticsearch is optional among the test services (services.sh starts it when it can).
const url = env?.["ELASTICSEARCH_URL"]

if (env === undefined || url === undefined) {
  test.skip("ElasticsearchIndex against a real Elasticsearch (not among the running test services)", () => {})
} else {
  serverSuite({
    name: "Elasticsearch",
    url,
    otherUrl: env["OPENSEARCH_URL"],
    layer: ElasticsearchIndex.layer
  })
}
