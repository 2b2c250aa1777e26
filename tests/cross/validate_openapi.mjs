// Validates OpenAPI / Swagger documents with @apidevtools/swagger-parser (validate: the schema
// of the spec and its $refs). Usage: node validate_openapi.mjs FILE...; prints "ok FILE" or
// "invalid FILE: reason" per file and exits 1 when any is invalid.
import SwaggerParser from "@apidevtools/swagger-parser";

let failed = false;
for (const file of process.argv.slice(2)) {
  try {
    await SwaggerParser.validate(file);
    console.log(`ok ${file}`);
  } catch (e) {
    failed = true;
    console.log(`invalid ${file}: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
