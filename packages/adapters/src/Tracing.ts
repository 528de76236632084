/**
 * The optional OpenTelemetry exporter: the spans core and the adapters make
 * (an ingest, its phases, each step, its undo or commit, each backend request)
 * sent as OTLP/HTTP JSON by `@effect/opentelemetry`'s OtlpTracer, over
 * @effect/platform's fetch client (no OpenTelemetry SDK in the process).
 *
 * Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
 * is set, with the standard OpenTelemetry variables, read from the environment
 * only (as every OpenTelemetry SDK does):
 *
 *   OTEL_EXPORTER_OTLP_ENDPOINT         base URL; traces go to `<base>/v1/traces`
 *   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  the full traces URL (wins over the base)
 *   OTEL_EXPORTER_OTLP_HEADERS          `key=value,key2=value2` (values URL-encoded), e.g. a collector's API key
 *   OTEL_SERVICE_NAME                   default `hysds-stac`
 *   OTEL_SDK_DISABLED=true              exporter off even with an endpoint
 *
 * Spans are buffered and sent in batches; the layer's finalizer sends what is
 * left, so whoever provides the layer must close it before the process exits
 * (the CLI does by providing it around the whole command).
 */
import { FetchHttpClient } from "@effect/platform"
import { Errors, Redact } from "@hysds-stac/core"
import { Duration, Effect, Either, Layer } from "effect"

export type Source = Readonly<Record<string, string | undefined>>

export interface TracingConfig {
  /** Where spans are POSTed (OTLP/HTTP, JSON). */
  readonly url: string
  readonly serviceName: string
  readonly headers: Readonly<Record<string, string>>
  /** How long the final flush may take when the process ends. */
  readonly shutdownTimeout: Duration.DurationInput
  readonly exportInterval: Duration.DurationInput
}

const fail = (field: string, message: string, hint: string) =>
  Either.left(new Errors.ConfigError({ message, field, hint }))

/** `k=v,k2=v2` as the OpenTelemetry spec writes it (values percent-encoded). */
const parseHeaders = (text: string): Either.Either<Record<string, string>, Errors.ConfigError> => {
  const out: Record<string, string> = {}
  for (const pair of text.split(",")) {
    if (pair.trim() === "") continue
    const eq = pair.indexOf("=")
    const key = eq > 0 ? pair.slice(0, eq).trim() : ""
    if (key === "") {
      // Never quote the pair: it is likely a key or a token.
      return fail("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS has an entry that is not key=value", "write it as key=value,key2=value2")
    }
    try {
      out[key] = decodeURIComponent(pair.slice(eq + 1).trim())
    } catch {
      out[key] = pair.slice(eq + 1).trim()
    }
  }
  return Either.right(out)
}

const httpUrl = (name: string, value: string): Either.Either<string, Errors.ConfigError> => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return fail(name, `${name} is not a URL: ${Redact.redact(value)}`, "e.g. http://127.0.0.1:4318 (OTLP over HTTP)")
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return fail(name, `${name} must be an http(s) URL (OTLP over HTTP), not ${url.protocol}`, "e.g. http://127.0.0.1:4318")
  }
  return Either.right(url.href)
}

/** The exporter's settings, or undefined when tracing is off. */
export const fromEnv = (env: Source): Either.Either<TracingConfig | undefined, Errors.ConfigError> => {
  const set = (name: string) => {
    const v = env[name]?.trim()
    return v === undefined || v === "" ? undefined : v
  }
  if (set("OTEL_SDK_DISABLED")?.toLowerCase() === "true") return Either.right(undefined)
  const traces = set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
  const base = set("OTEL_EXPORTER_OTLP_ENDPOINT")
  if (traces === undefined && base === undefined) return Either.right(undefined)
  const url =
    traces !== undefined
      ? httpUrl("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces)
      : Either.map(httpUrl("OTEL_EXPORTER_OTLP_ENDPOINT", base!), (b) => `${b.replace(/\/+$/, "")}/v1/traces`)
  return Either.flatMap(url, (url) =>
    Either.map(parseHeaders(set("OTEL_EXPORTER_OTLP_HEADERS") ?? ""), (headers) => ({
      url,
      serviceName: set("OTEL_SERVICE_NAME") ?? "hysds-stac",
      headers,
      shutdownTimeout: Duration.seconds(5),
      exportInterval: Duration.seconds(5)
    }))
  )
}

/** Values that must never be printed: the exporter's header values (API keys of a collector). */
export const secretsOf = (config: TracingConfig | undefined): ReadonlyArray<string> =>
  config === undefined ? [] : Object.values(config.headers).filter((v) => v.length >= 4)

/** The tracer for `config`: every span the program makes is exported. */
export const layer = (config: TracingConfig): Layer.Layer<never> =>
  // Loaded when used: most runs export nothing and need not hold the exporter's code.
  Layer.unwrapEffect(
    Effect.promise(() => Promise.all([import("@effect/opentelemetry"), import("@effect/opentelemetry/OtlpSerialization")])).pipe(
      Effect.map(([{ OtlpTracer }, OtlpSerialization]) =>
        OtlpTracer.layer({
          url: config.url,
          resource: { serviceName: config.serviceName, serviceVersion: "0.1.0" },
          headers: config.headers,
          exportInterval: config.exportInterval,
          shutdownTimeout: config.shutdownTimeout
        }).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(FetchHttpClient.layer))
      )
    )
  )

/**
 * No exporter: spans are not made at all. Why: with nobody to send them to,
 * the spans of every request and step were still built (a few percent of the
 * CPU of a 10,000-item ingest, one per file put).
 */
export const off: Layer.Layer<never> = Layer.setTracerEnabled(false)

/** The tracer for `config`, or `off` without one. */
export const layerOf = (config: TracingConfig | undefined): Layer.Layer<never> => (config === undefined ? off : layer(config))

/**
 * The exporter the environment asks for, or `off`. A bad setting is a
 * configuration error (exit 3): a trace silently not sent is worse than a
 * refused start.
 */
export const layerFromEnv = (env: Source): Either.Either<Layer.Layer<never>, Errors.ConfigError> => Either.map(fromEnv(env), layerOf)
