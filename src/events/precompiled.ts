/**
 * The event input validator, compiled ahead of time where that pays: at start-up.
 *
 * Under tsc and tsx this module exports nothing and validate.ts compiles the schema when it is
 * imported (about 50 ms, a tenth of `herald emit`'s start-up). The command-line bundle
 * replaces this module with Ajv's standalone code for the same schema and the same Ajv
 * options (scripts/precompiled-validators.mjs, run by scripts/build-cli.mjs), so the CLI
 * starts without compiling it. test/unit/precompiled-validators.test.ts checks that the
 * standalone validator answers exactly as the compiled one.
 */
import type { ValidateFunction } from 'ajv';

export const precompiledEventInput: ValidateFunction | undefined = undefined;
