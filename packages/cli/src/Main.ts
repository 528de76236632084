import { Command } from "@effect/cli"
import * as Check from "./commands/Check.ts"
import * as Grq from "./commands/Grq.ts"
import * as Ingest from "./commands/Ingest.ts"
import * as Journal from "./commands/Journal.ts"
import * as Stac from "./commands/Stac.ts"
import * as Validate from "./commands/Validate.ts"

export const root = Command.make("hysds-stac").pipe(
  Command.withDescription(
    "Publish HySDS job outputs (STAC catalogs and classic datasets) to object storage, GRQ and a STAC API, all or nothing. With no backend configured, everything goes to the embedded default under --state-dir."
  ),
  Command.withSubcommands([Ingest.command, Validate.command, Check.command, Journal.recover, Journal.command, Grq.command, Stac.command])
)

export const run = Command.run(root, { name: "hysds-stac", version: "0.1.0" })
