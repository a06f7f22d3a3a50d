// Ajv standalone code for the validators the command line would otherwise compile at start-up
// (src/events/precompiled.ts says why). Used by scripts/build-cli.mjs and by the unit test that
// checks the generated validator against the compiled one.
import standaloneCode from 'ajv/dist/standalone/index.js';

/**
 * The ES module source that replaces src/events/precompiled.ts: `createAjv` and `schema` are
 * those of src/events/validate.ts (from dist/ at build time, from src/ in the test).
 */
export function precompiledModule(createAjv, schema) {
  const ajv = createAjv({ code: { source: true, esm: true } });
  const validate = ajv.compile(schema);
  const code = (standaloneCode.default ?? standaloneCode)(ajv, validate);
  return `${code}\nexport const precompiledEventInput = validate;\n`;
}
