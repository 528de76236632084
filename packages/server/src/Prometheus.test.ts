import { describe, expect, test } from "bun:test"
import { Effect, Metric, MetricBoundaries } from "effect"
import * as Prometheus from "./Prometheus.ts"

describe("Prometheus.render", () => {
  test("counters, gauges and histograms in the text format, one HELP/TYPE per name", async () => {
    const counter = Metric.counter("unit_test_events_total", { description: "Events\nseen", incremental: true })
    const gauge = Metric.gauge("unit_test_level", { description: "A level" })
    const histogram = Metric.histogram("unit_test_seconds", MetricBoundaries.fromIterable([0.1, 1]), "Durations")
    const text = await Effect.runPromise(
      Effect.gen(function* () {
        yield* Metric.incrementBy(Metric.tagged(counter, "kind", 'a"b\\c'), 2)
        yield* Metric.incrementBy(Metric.tagged(counter, "kind", "plain"), 3)
        yield* Metric.set(gauge, 7.5)
        for (const v of [0.05, 0.5, 5]) yield* Metric.update(histogram, v)
        return yield* Prometheus.scrape
      })
    )
    const block = (name: string) => text.split("\n").filter((l) => l.includes(name))
    expect(block("unit_test_events_total")).toEqual([
      "# HELP unit_test_events_total Events\\nseen",
      "# TYPE unit_test_events_total counter",
      'unit_test_events_total{kind="a\\"b\\\\c"} 2',
      'unit_test_events_total{kind="plain"} 3'
    ])
    expect(block("unit_test_level")).toEqual(["# HELP unit_test_level A level", "# TYPE unit_test_level gauge", "unit_test_level 7.5"])
    expect(block("unit_test_seconds")).toEqual([
      "# HELP unit_test_seconds Durations",
      "# TYPE unit_test_seconds histogram",
      'unit_test_seconds_bucket{le="0.1"} 1',
      'unit_test_seconds_bucket{le="1"} 2',
      'unit_test_seconds_bucket{le="+Inf"} 3',
      "unit_test_seconds_sum 5.55",
      "unit_test_seconds_count 3"
    ])
    expect(text.endsWith("\n")).toBe(true)
  })
})
