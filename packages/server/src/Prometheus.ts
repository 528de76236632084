/**
 * The Prometheus text exposition format (0.0.4) of Effect's metric registry.
 * Written here rather than taken from an exporter package: the format is
 * small, and the service needs nothing else from an exporter. Counters,
 * gauges and histograms are rendered; frequencies and summaries (unused) are
 * skipped rather than rendered wrongly.
 */
import { Effect, Metric, MetricState, Option } from "effect"
import type { MetricPair } from "effect"

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
const sanitizeName = (n: string) => n.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/^([0-9])/, "_$1")

const num = (n: number | bigint): string => {
  if (typeof n === "bigint") return n.toString()
  if (Number.isNaN(n)) return "NaN"
  if (n === Infinity) return "+Inf"
  if (n === -Infinity) return "-Inf"
  return String(n)
}

const labels = (tags: ReadonlyArray<{ readonly key: string; readonly value: string }>, extra: ReadonlyArray<readonly [string, string]> = []) => {
  const all = [...tags.map((t) => [t.key, t.value] as const), ...extra]
  return all.length === 0 ? "" : `{${all.map(([k, v]) => `${sanitizeName(k)}="${escapeLabel(v)}"`).join(",")}}`
}

type Kind = "counter" | "gauge" | "histogram"

const kindOf = (pair: MetricPair.MetricPair.Untyped): Kind | undefined => {
  const s = pair.metricState
  if (MetricState.isCounterState(s)) return "counter"
  if (MetricState.isGaugeState(s)) return "gauge"
  if (MetricState.isHistogramState(s)) return "histogram"
  return undefined
}

const sampleLines = (name: string, pair: MetricPair.MetricPair.Untyped): Array<string> => {
  const s = pair.metricState
  const tags = pair.metricKey.tags
  if (MetricState.isCounterState(s)) return [`${name}${labels(tags)} ${num(s.count)}`]
  if (MetricState.isGaugeState(s)) return [`${name}${labels(tags)} ${num(s.value)}`]
  if (MetricState.isHistogramState(s)) {
    // Effect's buckets are already cumulative, as Prometheus wants them, and end with +Inf.
    const buckets = [...s.buckets]
    const lines = buckets.map(([le, count]) => `${name}_bucket${labels(tags, [["le", num(le)]])} ${count}`)
    if (buckets.at(-1)?.[0] !== Infinity) lines.push(`${name}_bucket${labels(tags, [["le", "+Inf"]])} ${s.count}`)
    lines.push(`${name}_sum${labels(tags)} ${num(s.sum)}`)
    lines.push(`${name}_count${labels(tags)} ${s.count}`)
    return lines
  }
  return []
}

/** Renders pairs; series of one name are grouped under one HELP/TYPE header, as the format requires. */
export const render = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const groups = new Map<string, { kind: Kind; help: string; lines: Array<string> }>()
  // Series in a stable order (by labels), each keeping its own line order (buckets ascending).
  const sorted = [...pairs].sort((a, b) => labels(a.metricKey.tags).localeCompare(labels(b.metricKey.tags)))
  for (const pair of sorted) {
    const kind = kindOf(pair)
    if (kind === undefined) continue
    const name = sanitizeName(pair.metricKey.name)
    const group = groups.get(name) ?? { kind, help: Option.getOrElse(pair.metricKey.description, () => name), lines: [] }
    group.lines.push(...sampleLines(name, pair))
    groups.set(name, group)
  }
  const out: Array<string> = []
  for (const [name, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`# HELP ${name} ${escapeHelp(g.help)}`, `# TYPE ${name} ${g.kind}`, ...g.lines)
  }
  return out.join("\n") + "\n"
}

/** The registry as it is now. */
export const scrape = Effect.map(Metric.snapshot, render)
