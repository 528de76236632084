/**
 * The HTTP contract of the ingest service, as data: routes, bodies, errors and
 * security. The server is built from it (HttpApiBuilder) and the OpenAPI
 * document is generated from it (OpenApi.fromApi), so the documentation cannot
 * drift from what is served. Nothing here runs anything.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, HttpApiSecurity, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import * as E from "./ApiErrors.ts"
import * as S from "./ApiSchemas.ts"

const apiKey = HttpApiSecurity.apiKey({ key: "X-Api-Key", in: "header" }).pipe(
  HttpApiSecurity.annotate(OpenApi.Description, "An API key from HYSDS_STAC_API_KEYS or HYSDS_STAC_API_KEYS_FILE.")
)
const bearer = HttpApiSecurity.bearer.pipe(HttpApiSecurity.annotate(OpenApi.Description, "The same API key, as a bearer token in the Authorization header."))

/**
 * Every route but /healthz, /readyz and the two pages below: an API key in
 * `X-Api-Key`, or the same key as a bearer token. Never Basic: a browser
 * replays cached Basic credentials on any request to the origin, a cross-site
 * form POST included, so Basic on these routes would let another site submit
 * ingests with the user's credentials. A header a page cannot set without a
 * CORS preflight (which we never grant) is safe from that.
 */
export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("Authentication", {
  failure: E.Unauthorized,
  security: { apiKey, bearer }
}) {}

/**
 * GET /docs and GET /openapi.json only: the key as above, or Basic auth (any
 * user name, the key as password) so a browser can open them. Both are
 * read-only and the same for every caller: a replayed Basic login there
 * reveals nothing another site can read (no CORS) and changes nothing.
 */
export class PageAuthentication extends HttpApiMiddleware.Tag<PageAuthentication>()("PageAuthentication", {
  failure: E.Unauthorized,
  security: {
    apiKey,
    bearer,
    basic: HttpApiSecurity.basic.pipe(HttpApiSecurity.annotate(OpenApi.Description, "Any user name, the API key as password: for a browser, on /docs and /openapi.json only."))
  }
}) {}

export class IngestsGroup extends HttpApiGroup.make("ingests")
  .add(
    HttpApiEndpoint.post("create", "/v1/ingests")
      .setPayload(S.IngestRequest)
      .setUrlParams(S.CreateParams)
      .addSuccess(S.IngestStatus.annotations(HttpApiSchema.annotations({ status: 200 })))
      .addSuccess(S.IngestAccepted.annotations(HttpApiSchema.annotations({ status: 202 })))
      .addError(E.Forbidden)
      .addError(E.InvalidRequest)
      .addError(E.IngestInProgress)
      .addError(E.QueueFull)
      .addError(E.ShuttingDown)
      .addError(E.IngestRejected)
      .addError(E.IngestConflict)
      .addError(E.IngestBackendFailed)
      .addError(E.IngestInterrupted)
      .addError(E.IngestInternalError)
      .annotate(OpenApi.Summary, "Submit an ingest")
      .annotate(
        OpenApi.Description,
        "Queues the ingest of a job dir and answers 202 with its id. With `?wait=true` it answers when the ingest has ended: 200 with the final state if it succeeded, otherwise an Ingest* error (by category) whose `ingest` is the final state. Beyond the concurrency limit ingests queue; beyond the queue, 429."
      )
  )
  .add(
    HttpApiEndpoint.get("get", "/v1/ingests/:id")
      .setPath(S.IngestIdPath)
      .addSuccess(S.IngestStatus)
      .addError(E.NotFound)
      .annotate(OpenApi.Summary, "State, progress and result of one ingest")
  )
  .add(
    HttpApiEndpoint.get("list", "/v1/ingests")
      .setUrlParams(S.ListParams)
      .addSuccess(S.IngestList)
      .annotate(OpenApi.Summary, "Ingests known to this process, newest first, optionally by state")
  )
  .middleware(Authentication)
  .annotate(OpenApi.Description, "Publishing job dirs, all or nothing.") {}

export class ValidationGroup extends HttpApiGroup.make("validation")
  .add(
    HttpApiEndpoint.post("validate", "/v1/validate")
      .setPayload(S.ValidateRequest)
      .addSuccess(S.ValidateResult)
      .addError(E.Forbidden)
      .addError(E.InvalidRequest)
      .annotate(OpenApi.Summary, "Check a job dir or catalog without publishing")
      .annotate(
        OpenApi.Description,
        "Runs the full ingest planning with the server's datasets.json (for a job dir) or the STAC checks (for one catalog file). 200 either way: `valid` says which, and `error.problems` lists every problem with file and JSON path."
      )
  )
  .middleware(Authentication) {}

export class HealthGroup extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("healthz", "/healthz")
      .addSuccess(S.Health)
      .annotate(OpenApi.Summary, "Liveness: the process answers")
  )
  .add(
    HttpApiEndpoint.get("readyz", "/readyz")
      .addSuccess(S.Readiness)
      .addError(E.NotReady)
      .annotate(OpenApi.Summary, "Readiness: the same backend checks as `hysds-stac check`")
      .annotate(
        OpenApi.Description,
        "datasets.json loads, every publish location is writable, GRQ and the STAC registry answer. Results are cached for a few seconds. 503 while draining after SIGTERM. Without credentials only `ready`; with a valid key (X-Api-Key or bearer) also `draining` and `checks`, which name backends, locations and their errors."
      )
  )
  .annotate(OpenApi.Description, "Probes; no authentication (a valid key adds readiness details).") {}

export class OperationsGroup extends HttpApiGroup.make("operations")
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(HttpApiSchema.Text({ contentType: "text/plain; version=0.0.4; charset=utf-8" }))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "Prometheus metrics")
  )
  .add(
    HttpApiEndpoint.get("openapi", "/openapi.json")
      .addSuccess(Schema.Unknown.annotations({ description: "An OpenAPI 3.1 document." }))
      .middleware(PageAuthentication)
      .annotate(OpenApi.Summary, "This API as OpenAPI")
  )
  .add(
    HttpApiEndpoint.get("docs", "/docs")
      .addSuccess(HttpApiSchema.Text({ contentType: "text/html; charset=utf-8" }))
      .middleware(PageAuthentication)
      .annotate(OpenApi.Summary, "This API as a self-contained HTML page")
  ) {}

export class Api extends HttpApi.make("hysds-stac")
  .add(IngestsGroup)
  .add(ValidationGroup)
  .add(HealthGroup)
  .add(OperationsGroup)
  .addError(E.BadRequest)
  .addError(E.PayloadTooLarge)
  .addError(E.UnsupportedMediaType)
  .addError(E.InternalServerError)
  .annotate(OpenApi.Title, "hysds-stac ingest service")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(
    OpenApi.Description,
    "Publishes HySDS job outputs (STAC catalogs and classic datasets) to object storage, GRQ and a STAC API, all or nothing, from an HTTP request."
  ) {}

/** The OpenAPI document of `Api` (served at /openapi.json and rendered at /docs). */
export const openApi = () => OpenApi.fromApi(Api)
