/**
 * The rollback suite (RollbackSuite.ts) against stac-fastapi-opensearch, the
 * second STAC registry; a file of its own so scripts/test.sh runs it beside
 * the pgstac one.
 */
import { rollbackSuite } from "./RollbackSuite.ts"

rollbackSuite("sfeos")
