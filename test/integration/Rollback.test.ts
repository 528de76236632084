/** The rollback suite (RollbackSuite.ts) against stac-fastapi-pgstac. */
import { rollbackSuite } from "./RollbackSuite.ts"

rollbackSuite("pgstac")
