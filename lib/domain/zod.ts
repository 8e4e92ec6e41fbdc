import { en } from 'zod/locales';
import { config } from 'zod/mini';

/**
 * zod/mini for the Lambdas: the same zod 4 schemas as `zod`, as functions a bundler leaves out when
 * unused (the classic `zod` entry bundles about 450 KiB for one z.string()). Import it as
 * `import * as z from './zod'`: esbuild then keeps only what is used, where a `z` object
 * (`import { z } from 'zod/mini'`) would keep all of zod.
 *
 * zod/mini ships no messages, so an issue without one of ours would read "Invalid input". Classic
 * zod registers English on first use; so does this, and an issue reads the same with either
 * ("Invalid input: expected string, received number").
 */
if (!config().localeError) config(en());

export * from 'zod/mini';
