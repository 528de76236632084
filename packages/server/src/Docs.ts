/**
 * The API documentation page, rendered from the OpenAPI document by this
 * module: one self-contained HTML file, inline CSS, no script, nothing fetched.
 * Deployments run without internet access, so the usual viewers (Swagger UI,
 * Scalar), which load their code from a CDN, would show a blank page; and
 * bundling one would add megabytes for a dozen routes. Rendering from the
 * document (not from hand-written text) keeps the page exactly as current as
 * /openapi.json.
 */

type Json = Record<string, unknown>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

export const escape = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

/** Inline `code` and blank-line paragraphs: the little markdown the descriptions use. */
const prose = (text: unknown): string =>
  typeof text === "string" && text !== ""
    ? text
        .split(/\n{2,}/)
        .map((p) => `<p>${escape(p).replace(/`([^`]+)`/g, "<code>$1</code>")}</p>`)
        .join("")
    : ""

const refName = (ref: string): string => ref.split("/").pop() ?? ref
const anchor = (name: string): string => `schema-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`

/** A schema as a one-line type expression, with named schemas linked. */
export const typeOf = (schema: unknown, depth = 0): string => {
  if (!isObject(schema)) return "any"
  if (typeof schema.$ref === "string") {
    const name = refName(schema.$ref)
    return `<a href="#${anchor(name)}">${escape(name)}</a>`
  }
  for (const key of ["anyOf", "oneOf"] as const) {
    const list = schema[key]
    if (Array.isArray(list)) return list.map((s) => typeOf(s, depth)).join(" | ")
  }
  if (Array.isArray(schema.allOf)) return schema.allOf.map((s) => typeOf(s, depth)).join(" &amp; ")
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => `<code>${escape(JSON.stringify(v))}</code>`).join(" | ")
  if ("const" in schema) return `<code>${escape(JSON.stringify(schema.const))}</code>`
  const type = schema.type
  if (Array.isArray(type)) return type.map((t) => typeOf({ ...schema, type: t }, depth)).join(" | ")
  switch (type) {
    case "array":
      return `array of ${typeOf(schema.items, depth)}`
    case "object": {
      const props = isObject(schema.properties) ? schema.properties : {}
      const required = new Set(Array.isArray(schema.required) ? schema.required : [])
      const names = Object.keys(props)
      if (names.length === 0) return "object"
      if (depth > 2) return "object"
      return `{ ${names.map((n) => `${escape(n)}${required.has(n) ? "" : "?"}: ${typeOf(props[n], depth + 1)}`).join(", ")} }`
    }
    case "string":
    case "number":
    case "integer":
    case "boolean":
    case "null":
      return `${type}${typeof schema.format === "string" ? ` (${escape(schema.format)})` : ""}`
    default:
      return "any"
  }
}

const propertiesTable = (schema: Json): string => {
  const props = isObject(schema.properties) ? schema.properties : {}
  const required = new Set(Array.isArray(schema.required) ? schema.required : [])
  const rows = Object.entries(props).map(
    ([name, p]) =>
      `<tr><td><code>${escape(name)}</code>${required.has(name) ? "" : " <span class=opt>optional</span>"}</td><td>${typeOf(p)}</td><td>${prose(isObject(p) ? p.description : undefined)}</td></tr>`
  )
  return rows.length === 0 ? "" : `<table><thead><tr><th>field</th><th>type</th><th>meaning</th></tr></thead><tbody>${rows.join("")}</tbody></table>`
}

const contentList = (content: unknown): string => {
  if (!isObject(content)) return ""
  return Object.entries(content)
    .map(([type, media]) => `<div><span class=ct>${escape(type)}</span> ${typeOf(isObject(media) ? media.schema : undefined)}</div>`)
    .join("")
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const

interface Operation {
  readonly method: string
  readonly path: string
  readonly op: Json
  readonly id: string
}

const operations = (spec: Json): Array<Operation> => {
  const out: Array<Operation> = []
  const paths = isObject(spec.paths) ? spec.paths : {}
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue
    for (const method of METHODS) {
      const op = item[method]
      if (!isObject(op)) continue
      const id = typeof op.operationId === "string" ? op.operationId : `${method}-${path}`
      out.push({ method, path, op, id })
    }
  }
  return out
}

const security = (spec: Json, op: Json): string => {
  const reqs = Array.isArray(op.security) ? op.security : Array.isArray(spec.security) ? spec.security : []
  if (reqs.length === 0) return `<p class=auth>No authentication.</p>`
  const names = reqs.flatMap((r) => (isObject(r) ? Object.keys(r) : []))
  return `<p class=auth>Authentication: one of ${names.map((n) => `<a href="#auth-${escape(n)}">${escape(n)}</a>`).join(", ")}.</p>`
}

const operationHtml = (spec: Json, o: Operation): string => {
  const parts: Array<string> = [
    `<article id="op-${escape(o.id)}"><h3><span class="method ${o.method}">${o.method.toUpperCase()}</span> <code>${escape(o.path)}</code></h3>`
  ]
  if (typeof o.op.summary === "string") parts.push(`<p class=summary>${escape(o.op.summary)}</p>`)
  parts.push(prose(o.op.description), security(spec, o.op))
  const params = Array.isArray(o.op.parameters) ? o.op.parameters.filter(isObject) : []
  if (params.length > 0) {
    parts.push(
      `<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>type</th><th>meaning</th></tr></thead><tbody>${params
        .map(
          (p) =>
            `<tr><td><code>${escape(String(p.name))}</code>${p.required === true ? "" : " <span class=opt>optional</span>"}</td><td>${escape(String(p.in))}</td><td>${typeOf(p.schema)}</td><td>${prose(p.description)}</td></tr>`
        )
        .join("")}</tbody></table>`
    )
  }
  if (isObject(o.op.requestBody)) {
    parts.push(`<h4>Request body${o.op.requestBody.required === true ? "" : " (optional)"}</h4>${contentList(o.op.requestBody.content)}`)
  }
  const responses = isObject(o.op.responses) ? o.op.responses : {}
  parts.push(
    `<h4>Responses</h4><table><thead><tr><th>status</th><th>meaning</th><th>body</th></tr></thead><tbody>${Object.entries(responses)
      .map(([status, r]) => {
        const resp = isObject(r) ? r : {}
        return `<tr><td class=status>${escape(status)}</td><td>${prose(resp.description)}</td><td>${contentList(resp.content)}</td></tr>`
      })
      .join("")}</tbody></table></article>`
  )
  return parts.join("\n")
}

const schemesHtml = (spec: Json): string => {
  const schemes = isObject(spec.components) && isObject(spec.components.securitySchemes) ? spec.components.securitySchemes : {}
  const rows = Object.entries(schemes).map(([name, s]) => {
    const scheme = isObject(s) ? s : {}
    const how =
      scheme.type === "apiKey"
        ? `header <code>${escape(String(scheme.name))}</code> (${escape(String(scheme.in))})`
        : scheme.type === "http"
          ? `HTTP <code>${escape(String(scheme.scheme))}</code>`
          : escape(String(scheme.type))
    return `<tr id="auth-${escape(name)}"><td><code>${escape(name)}</code></td><td>${how}</td><td>${prose(scheme.description)}</td></tr>`
  })
  return rows.length === 0
    ? ""
    : `<section id=auth><h2>Authentication</h2><table><thead><tr><th>scheme</th><th>how</th><th>meaning</th></tr></thead><tbody>${rows.join("")}</tbody></table></section>`
}

const schemasHtml = (spec: Json): string => {
  const schemas = isObject(spec.components) && isObject(spec.components.schemas) ? spec.components.schemas : {}
  const blocks = Object.entries(schemas)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => {
      const schema = isObject(s) ? s : {}
      const body = schema.type === "object" && isObject(schema.properties) ? propertiesTable(schema) : `<p>${typeOf(schema)}</p>`
      return `<section class=schema id="${anchor(name)}"><h3>${escape(name)}</h3>${prose(schema.description)}${body}<details><summary>JSON Schema</summary><pre>${escape(JSON.stringify(schema, null, 2))}</pre></details></section>`
    })
  return blocks.length === 0 ? "" : `<section id=schemas><h2>Schemas</h2>${blocks.join("\n")}</section>`
}

const CSS = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2329;background:#fafbfc}
header,main,nav{max-width:72rem;margin:0 auto;padding:0 1.5rem}
header{padding-top:1.5rem}h1{margin:.2em 0}h1 small{font-size:.55em;color:#57606a;font-weight:normal}
h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
article,.schema{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.4rem 1rem;margin:1rem 0}
h3{margin:.5em 0;font-size:1.05em}h4{margin:.8em 0 .3em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;border-radius:4px}
table{border-collapse:collapse;width:100%;margin:.3rem 0}th,td{text-align:left;vertical-align:top;border-top:1px solid #eaeef2;padding:.3rem .5rem}
th{font-weight:600;color:#57606a;font-size:.85em}td p{margin:0 0 .3em}
.method{display:inline-block;min-width:4.2em;text-align:center;border-radius:4px;color:#fff;font-size:.8em;padding:.1em .4em;font-weight:700}
.get{background:#1f6feb}.post{background:#1a7f37}.put,.patch{background:#9a6700}.delete{background:#cf222e}
.opt{color:#57606a;font-size:.8em}.ct{color:#57606a;font-size:.85em}.status{font-weight:700}.summary{font-weight:600}
.auth{color:#57606a;font-size:.9em}nav ul{columns:2;padding-left:1.2rem}nav li{break-inside:avoid}
`

/** The whole page. `spec` is an OpenAPI 3.x document (OpenApi.fromApi's output). */
export const render = (spec: Json, options: { readonly openApiPath?: string } = {}): string => {
  const info = isObject(spec.info) ? spec.info : {}
  const title = typeof info.title === "string" ? info.title : "API"
  const ops = operations(spec)
  const tags = [...new Set(ops.map((o) => (Array.isArray(o.op.tags) && typeof o.op.tags[0] === "string" ? o.op.tags[0] : "other")))]
  const tagDescriptions = new Map(
    (Array.isArray(spec.tags) ? spec.tags.filter(isObject) : []).map((t) => [String(t.name), t.description] as const)
  )
  const tagOf = (o: Operation) => (Array.isArray(o.op.tags) && typeof o.op.tags[0] === "string" ? o.op.tags[0] : "other")
  const nav = `<nav><h2>Routes</h2><ul>${ops
    .map((o) => `<li><a href="#op-${escape(o.id)}"><span class="method ${o.method}">${o.method.toUpperCase()}</span> <code>${escape(o.path)}</code></a></li>`)
    .join("")}</ul></nav>`
  const groups = tags
    .map(
      (tag) =>
        `<section id="tag-${escape(tag)}"><h2>${escape(tag)}</h2>${prose(tagDescriptions.get(tag))}${ops
          .filter((o) => tagOf(o) === tag)
          .map((o) => operationHtml(spec, o))
          .join("\n")}</section>`
    )
    .join("\n")
  const openApiPath = options.openApiPath ?? "/openapi.json"
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title><style>${CSS}</style></head>
<body><header><h1>${escape(title)} <small>${escape(String(info.version ?? ""))} · OpenAPI ${escape(String(spec.openapi ?? ""))}</small></h1>
${prose(info.description)}<p>Machine-readable: <a href="${escape(openApiPath)}">${escape(openApiPath)}</a></p></header>
${nav}
<main>${schemesHtml(spec)}
${groups}
${schemasHtml(spec)}</main></body></html>
`
}
