import { expect, test } from "bun:test"
import { services } from "../contract/Services.ts"
import * as ElasticsearchIndex from "./ElasticsearchIndex.ts"
import { serverSuite } from "./SearchIndex.fixture.ts"

const env = services()
const url = env?.["ELASTICSEARCH_URL"]

if (env === undefined) {
  test.skip("ElasticsearchIndex against a real Elasticsearch (the test services are not running)", () => {})
} else if (url === undefined) {
  // The services are up but Elasticsearch is not among them: when the run requires the
  // services (`bun run test`, CI), that is a failure, never a quiet skip of the whole suite.
  test("Elasticsearch is among the running test services", () => {
    expect(process.env.HYSDS_STAC_REQUIRE_SERVICES === "1" ? "ELASTICSEARCH_URL missing from test/services/.run/services.env" : "optional here").toBe(
      "optional here"
    )
  })
} else {
  serverSuite({
    name: "Elasticsearch",
    url,
    otherUrl: env["OPENSEARCH_URL"],
    layer: ElasticsearchIndex.layer
  })
}
