/**
 * Port: running a datasets.json entry's `extractor` on a product directory, as
 * HySDS does when the product has no `<id>.met.json` (see ProductMetadata for
 * what is done with its output).
 *
 * Running a program is a side effect core does not perform itself: an adapter
 * does (adapters `ExtractorProcess`), which the CLI and the server provide.
 * The program comes from datasets.json (operator config, trusted); the product
 * dir it is given comes from the job (untrusted). So the adapter runs it
 * without a shell (the dir is one argument, never parsed), with a time limit,
 * killing its whole process group when the limit is hit, and keeps at most
 * `maxStdoutBytes` of its stdout and the tail of its stderr.
 */
import { Context, type Effect } from "effect"

/** What one run of an extractor did. */
export interface ExtractorRun {
  /** The exit code; null when it was killed by a signal (or never started). */
  readonly exitCode: number | null
  readonly signal: string | null
  /** Set when it could not be started at all (no such program, not executable). */
  readonly startError?: string
  readonly stdout: string
  /** The last bytes of stderr (the adapter keeps only a tail). */
  readonly stderrTail: string
  readonly timedOut: boolean
  /** Stdout went over the limit: the run was stopped there and its output is incomplete. */
  readonly stdoutTruncated: boolean
}

export interface ExtractorShape {
  /** Runs `[program, productDir]` and reports what happened; never fails. */
  readonly run: (program: string, productDir: string) => Effect.Effect<ExtractorRun>
  /** The time limit of one run, for messages. */
  readonly timeoutMillis: number
}

export class Extractor extends Context.Tag("@hysds-stac/core/Extractor")<Extractor, ExtractorShape>() {}
